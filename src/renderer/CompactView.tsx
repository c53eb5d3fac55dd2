import type { Resource } from '../shared/contract/api.js';
import type { Client } from './api-client.js';
import { formatBytes, isOn, stateLabel, toggleClasses } from './format.js';
import { SignInPrompts } from './SignInPrompts.js';
import type { AirlockState } from './use-airlock.js';

interface Props {
  client: Client;
  state: AirlockState;
  notify: (message: string) => void;
  report: (error: unknown) => void;
}

/**
 * The tray popover: every resource with its switch and state, the sign-in the user must finish,
 * and a way to the full window. Nothing to edit here: that is the window's job.
 */
export function CompactView({ client, state, notify, report }: Props) {
  const sorted = [...state.resources].sort((a, b) => a.name.localeCompare(b.name));
  const attempt = (work: Promise<unknown>) => void work.catch(report);
  const toggle = (resource: Resource) =>
    attempt(
      isOn(state.statuses.get(resource.id))
        ? client.api.disconnect({ id: resource.id })
        : client.api.connect({ id: resource.id }),
    );

  return (
    <div className="compact">
      <SignInPrompts
        sessions={state.sessions}
        onSignIn={(edge) => attempt(client.api.signIn({ edge }))}
        onCancel={(edge) => attempt(client.api.cancelSignIn({ edge }))}
        notify={notify}
      />
      {sorted.length === 0 ? <p className="compact-empty">No resources yet. Open Airlock to add one.</p> : null}
      <ul className="compact-list" aria-label="Resources">
        {sorted.map((resource) => {
          const status = state.statuses.get(resource.id);
          const on = isOn(status);
          const current = status?.state ?? 'off';
          return (
            <li key={resource.id} className={`compact-row state-${current}`} data-name={resource.name}>
              <button
                className={`${toggleClasses(status)} small`}
                role="switch"
                aria-checked={on}
                aria-label={`${on ? 'Disconnect' : 'Connect'} ${resource.name}`}
                onClick={() => toggle(resource)}
              >
                <span className="knob" />
              </button>
              <div className="compact-main">
                <div className="compact-title">
                  <span className="resource-name">{resource.name}</span>
                  <span className={`dot dot-${current}`} />
                  <span className="state" data-testid="state">
                    {stateLabel(status)}
                  </span>
                </div>
                <div className="compact-sub">
                  {status?.localAddress ?? `${resource.localHost}:${resource.localPort}`}
                  {status && status.activeConnections > 0
                    ? ` · ${status.activeConnections} open · ↑ ${formatBytes(status.bytesUp)} · ↓ ${formatBytes(status.bytesDown)}`
                    : ''}
                </div>
                {status?.lastError ? (
                  <div className="compact-error" role="alert">
                    {status.lastError.message}
                  </div>
                ) : null}
              </div>
            </li>
          );
        })}
      </ul>
      <footer className="compact-footer">
        {client.mode === 'desktop' ? (
          <button className="button small" onClick={() => attempt(client.api.openWindow())}>
            Open Airlock
          </button>
        ) : (
          <a className="button small" href="#">
            Open Airlock
          </a>
        )}
      </footer>
    </div>
  );
}
