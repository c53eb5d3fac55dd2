import { LogIn, LogOut } from 'lucide-react';
import { edgeHost, type EdgeSession } from '../shared/contract/api.js';
import { relativeExpiry } from './format.js';

interface Props {
  edge: string;
  session: EdgeSession | undefined;
  count: number;
  onSignIn: (edge: string) => void;
  onSignOut: (edge: string) => void;
  children: React.ReactNode;
}

/** One edge's resources under one header: where they go, who is signed in there, and sign-in or out. */
export function EdgeSection({ edge, session, count, onSignIn, onSignOut, children }: Props) {
  const host = edgeHost(edge);
  const id = `edge-${host.replace(/[^a-z0-9]+/gi, '-')}`;
  return (
    <section className="edge-section" aria-labelledby={id} data-edge={edge}>
      <header className="edge-header">
        <h2 id={id} className="edge-name" title={edge}>
          {host} <span className="visually-hidden">({count} resources)</span>
        </h2>
        <span className="edge-account" data-testid="edge-account">
          {!session ? null : !session.signInAvailable ? (
            <span className="muted" title={session.message}>
              Sign-in not available in this build
            </span>
          ) : session.signedIn ? (
            <>
              <span className="edge-who">{session.email ?? 'Signed in'}</span>
              <span className="muted edge-expiry">{relativeExpiry(session.expiresAt)}</span>
              <button className="link-button" onClick={() => onSignOut(edge)} aria-label={`Sign out of ${host}`}>
                <LogOut size={14} aria-hidden="true" /> Sign out
              </button>
            </>
          ) : session.signingIn ? (
            <span className="muted">Signing in…</span>
          ) : (
            <>
              <span className="muted">Signed out</span>
              <button className="link-button" onClick={() => onSignIn(edge)} aria-label={`Sign in to ${host}`}>
                <LogIn size={14} aria-hidden="true" /> Sign in
              </button>
            </>
          )}
        </span>
      </header>
      {children}
    </section>
  );
}
