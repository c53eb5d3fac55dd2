import { useEffect, useState } from 'react';
import { edgeHost, type EdgeSession } from '../shared/contract/api.js';
import { relativeExpiry } from './format.js';

interface Props {
  sessions: EdgeSession[];
  onSignIn: (edge: string) => void;
  onSignOut: (edge: string) => void;
}

/** Sign-in state per edge, compact: one pill per edge, or one note when this build cannot sign in at all. */
export function Sessions({ sessions, onSignIn, onSignOut }: Props) {
  // "expires in …" counts down without any event from the core.
  const [, setNow] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  if (sessions.length === 0) return <div className="sessions" />;
  if (sessions.every((session) => !session.signInAvailable)) {
    return (
      <div className="sessions" aria-label="Sign-in state">
        <div
          className="session"
          title={`${sessions[0]!.message ?? ''}\n${sessions.map((session) => session.edge).join('\n')}`}
        >
          <span className="muted">Sign-in not available in this build</span>
        </div>
      </div>
    );
  }
  return (
    <div className="sessions" aria-label="Sign-in state">
      {sessions.map((session) => (
        <div
          key={session.edge}
          className={`session${session.signedIn ? ' signed-in' : ''}`}
          title={session.message ?? session.edge}
        >
          <span className="session-edge">{edgeHost(session.edge)}</span>
          {session.signedIn ? (
            <>
              <span className="session-who">{session.email ?? 'signed in'}</span>
              <span className="session-actions">
                <span className="muted">{relativeExpiry(session.expiresAt)}</span>
                <button className="link" onClick={() => onSignOut(session.edge)}>
                  Sign out
                </button>
              </span>
            </>
          ) : session.signingIn ? (
            <span className="muted">signing in…</span>
          ) : session.signInAvailable ? (
            <button className="link" onClick={() => onSignIn(session.edge)}>
              Sign in
            </button>
          ) : (
            <span className="muted">sign-in not available</span>
          )}
        </div>
      ))}
    </div>
  );
}
