import { useState } from 'react';
import { edgeHost, type EdgeSession } from '../shared/contract/api.js';
import { ErrorCodeLabel } from './ErrorCodeLabel.js';

interface Props {
  sessions: EdgeSession[];
  onSignIn: (edge: string) => void;
  onCancel: (edge: string) => void;
  notify: (message: string) => void;
}

/**
 * The one step only the user can take, where they are looking: a sign-in waiting in the browser
 * (open the page again, copy its link, cancel) and how the last one failed (try again).
 */
export function SignInPrompts({ sessions, onSignIn, onCancel, notify }: Props) {
  const [dismissed, setDismissed] = useState<Set<string>>(new Set());
  const waiting = sessions.filter((session) => session.signingIn);
  const failed = sessions.filter(
    (session) =>
      !session.signingIn &&
      !session.signedIn &&
      session.signInError &&
      !dismissed.has(`${session.edge}|${session.signInError.at}`),
  );
  if (waiting.length === 0 && failed.length === 0) return null;

  const copy = async (url: string) => {
    try {
      await navigator.clipboard.writeText(url);
      notify('Sign-in link copied: paste it into the browser you use for work.');
    } catch {
      notify(`Open this link to sign in: ${url}`);
    }
  };

  return (
    <div className="sign-in-prompts" aria-label="Sign-in">
      {waiting.map((session) => (
        <div
          key={session.edge}
          className="sign-in-prompt"
          role="status"
          data-testid="sign-in-prompt"
          data-edge={session.edge}
        >
          <span className="what">
            <strong>Sign in to {edgeHost(session.edge)}</strong>{' '}
            {session.signingIn!.url
              ? 'in the browser window that opened. Waiting for you to finish…'
              : 'Opening the sign-in page…'}
          </span>
          <span className="actions">
            {session.signingIn!.url ? (
              <>
                <a
                  className="button small primary"
                  href={session.signingIn!.url}
                  target="_blank"
                  rel="noopener noreferrer"
                >
                  Open sign-in page
                </a>
                <button className="button small" onClick={() => void copy(session.signingIn!.url!)}>
                  Copy link
                </button>
              </>
            ) : null}
            <button className="button small" onClick={() => onCancel(session.edge)}>
              Cancel
            </button>
          </span>
        </div>
      ))}
      {failed.map((session) => (
        <div key={session.edge} className="sign-in-prompt failed" role="alert" data-testid="sign-in-failed">
          <span className="what">
            <strong>Not signed in to {edgeHost(session.edge)}:</strong>{' '}
            <ErrorCodeLabel code={session.signInError!.code} /> {session.signInError!.message}
          </span>
          <span className="actions">
            <button className="button small primary" onClick={() => onSignIn(session.edge)}>
              Sign in
            </button>
            <button
              className="button small"
              onClick={() => setDismissed(new Set([...dismissed, `${session.edge}|${session.signInError!.at}`]))}
            >
              Dismiss
            </button>
          </span>
        </div>
      ))}
    </div>
  );
}
