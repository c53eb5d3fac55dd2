import { useEffect, useState } from 'react';
import { edgeHost, type EdgeSession } from '../shared/contract/api.js';
import { ErrorCodeLabel } from './ErrorCodeLabel.js';
import { plainError } from './plain-words.js';
import { SessionEndWarnings } from './SessionEndWarnings.js';

interface Props {
  sessions: EdgeSession[];
  onSignIn: (edge: string) => void;
  onCancel: (edge: string) => void;
  notify: (message: string) => void;
}

/**
 * The one step only the user can take, where they are looking, on one line each: a sign-in waiting
 * in the browser (open the page again, copy its link, cancel) and how the last one failed.
 */
export function SignInPrompts({ sessions, onSignIn, onCancel, notify }: Props) {
  const [dismissed, setDismissed] = useState<Set<string>>(new Set());
  const waiting = sessions.filter((session) => session.signingIn);
  // The countdown to the sign-in's time limit moves every second while one waits.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (waiting.length === 0) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [waiting.length]);
  const failed = sessions.filter(
    (session) =>
      !session.signingIn &&
      !session.signedIn &&
      session.signInError &&
      !dismissed.has(`${session.edge}|${session.signInError.at}`),
  );
  const ending = sessions.some((session) => session.expiryWarning && !session.signingIn);
  if (waiting.length === 0 && failed.length === 0 && !ending) return null;

  const copy = async (url: string) => {
    try {
      await navigator.clipboard.writeText(url);
      notify('Sign-in link copied: paste it into the browser you use for work.');
    } catch {
      notify(`Open this link to sign in: ${url}`);
    }
  };

  return (
    <div className="sign-in-prompts" role="region" aria-label="Sign-in">
      <SessionEndWarnings sessions={sessions} onSignIn={onSignIn} />
      {waiting.map((session) => {
        const host = edgeHost(session.edge);
        const url = session.signingIn!.url;
        return (
          <div
            key={session.edge}
            className="sign-in-prompt"
            role="status"
            data-testid="sign-in-prompt"
            data-edge={session.edge}
          >
            <span className="what">
              <strong>Sign in to {host}</strong>{' '}
              <span className="muted prompt-detail">{url ? 'in your browser…' : 'opening the page…'}</span>{' '}
              {session.signingIn!.expiresAt ? (
                <span className="muted countdown" data-testid="sign-in-countdown">
                  {countdown(new Date(session.signingIn!.expiresAt).getTime() - now)}
                </span>
              ) : null}
            </span>
            <span className="actions">
              {url ? (
                <>
                  <a className="button small primary" href={url} target="_blank" rel="noopener noreferrer">
                    Open sign-in page
                  </a>
                  <button className="button small" onClick={() => void copy(url)}>
                    Copy link
                  </button>
                </>
              ) : null}
              <button
                className="button small"
                onClick={() => onCancel(session.edge)}
                aria-label={`Cancel sign-in to ${host}`}
              >
                Cancel
              </button>
            </span>
          </div>
        );
      })}
      {failed.map((session) => {
        const host = edgeHost(session.edge);
        const failure = session.signInError!;
        const plain = plainError(
          {
            id: '',
            state: 'error',
            edge: session.edge,
            activeConnections: 0,
            totalConnections: 0,
            bytesUp: 0,
            bytesDown: 0,
            lastError: { ...failure, action: 'sign-in' },
          },
          0,
        );
        return (
          <div key={session.edge} className="sign-in-prompt failed" role="alert" data-testid="sign-in-failed">
            <span className="what">
              <strong>Not signed in to {host}:</strong> {plain?.sentence}{' '}
              <details className="error-details">
                <summary>Details</summary>
                <ErrorCodeLabel code={failure.code} /> {failure.message}
              </details>
            </span>
            <span className="actions">
              <button
                className="button small primary"
                onClick={() => onSignIn(session.edge)}
                aria-label={`Sign in again to ${host}`}
              >
                Sign in again
              </button>
              <button
                className="button small"
                onClick={() => setDismissed(new Set([...dismissed, `${session.edge}|${failure.at}`]))}
              >
                Dismiss
              </button>
            </span>
          </div>
        );
      })}
    </div>
  );
}

/** "4:59 left": how long the browser sign-in still waits. */
function countdown(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')} left`;
}
