import { expiryWarningText, type EdgeSession } from '../shared/contract/api.js';

interface Props {
  sessions: EdgeSession[];
  onSignIn: (edge: string) => void;
}

/**
 * "Sessions to staging end at 17:40 — sign in again to keep them": the edge ends open connections
 * when the session behind them expires; a sign-in before then keeps them (the service renews it).
 */
export function SessionEndWarnings({ sessions, onSignIn }: Props) {
  const ending = sessions.filter((session) => session.expiryWarning && !session.signingIn);
  return (
    <>
      {ending.map((session) => (
        <div
          key={session.edge}
          className="sign-in-prompt"
          role="status"
          data-testid="session-end-warning"
          data-edge={session.edge}
        >
          <span className="what">{expiryWarningText(session.edge, session.expiryWarning!)}</span>
          <span className="actions">
            <button className="button small primary" onClick={() => onSignIn(session.edge)}>
              Sign in again
            </button>
          </span>
        </div>
      ))}
    </>
  );
}
