import { edgeHost, type EdgeSession, type Resource, type ResourceStatus } from '../shared/contract/api.js';
import { connectCommand } from '../shared/contract/commands.js';
import { ErrorCodeLabel } from './ErrorCodeLabel.js';
import { formatBytes, isOn, relativeTime, stateLabel, toggleClasses } from './format.js';

interface Props {
  resource: Resource;
  status: ResourceStatus | undefined;
  /** Sign-in for the resource's edge, for "signed in as" and the error's Sign in button. */
  session: EdgeSession | undefined;
  selected: boolean;
  desktop: boolean;
  rowRef: (element: HTMLLIElement | null) => void;
  onSelect: () => void;
  onToggle: (resource: Resource) => void;
  onTest: (resource: Resource) => void;
  onSignIn: (edge: string) => void;
  onEdit: (resource: Resource) => void;
  onRemove: (resource: Resource) => void;
  onShortcut: (resource: Resource) => void;
  onCopy: (resource: Resource) => void;
}

/** One saved resource: its switch, where it listens, its state and what to do about an error. */
export function ResourceRow({
  resource,
  status,
  session,
  selected,
  desktop,
  rowRef,
  onSelect,
  onToggle,
  onTest,
  onSignIn,
  onEdit,
  onRemove,
  onShortcut,
  onCopy,
}: Props) {
  const on = isOn(status);
  const state = status?.state ?? 'off';
  return (
    <li
      ref={rowRef}
      className={`resource state-${state}${selected ? ' selected' : ''}`}
      role="option"
      aria-selected={selected}
      tabIndex={selected ? 0 : -1}
      onClick={onSelect}
      data-name={resource.name}
    >
      <button
        className={toggleClasses(status)}
        role="switch"
        aria-checked={on}
        aria-label={`${on ? 'Disconnect' : 'Connect'} ${resource.name}`}
        onClick={(event) => {
          event.stopPropagation();
          onSelect();
          onToggle(resource);
        }}
      >
        <span className="knob" />
      </button>
      <div className="resource-main">
        <div className="resource-title">
          <span className="resource-name">{resource.name}</span>
          <span className={`badge kind-${resource.kind}`}>{resource.kind}</span>
          {resource.tags.map((name) => (
            <span key={name} className="tag">
              {name}
            </span>
          ))}
        </div>
        <div className="resource-sub">
          {resource.hostname} → {resource.localHost}:{resource.localPort}
          {resource.edge ? <span className="muted"> via {resource.edge}</span> : null}
          {status?.offered === false ? (
            <span
              className="tag not-offered"
              title="Its edge no longer lists this application for you; the resource is kept"
            >
              no longer offered
            </span>
          ) : null}
        </div>
        <div className="resource-status" aria-live="polite">
          <span className={`dot dot-${state}`} />
          <span className="state" data-testid="state" data-state={state}>
            {stateLabel(status)}
          </span>
          {status?.localAddress ? (
            <span className="address" data-testid="local-address">
              {status.localAddress}
            </span>
          ) : null}
          {on ? (
            <span className="counters" data-testid="counters">
              {status!.activeConnections} open · ↑ {formatBytes(status!.bytesUp)} · ↓ {formatBytes(status!.bytesDown)}
            </span>
          ) : null}
        </div>
        <div className="resource-meta" data-testid="resource-meta">
          {session?.signedIn ? (
            <span title={session.edge}>
              Signed in to {edgeHost(session.edge)} as {session.email ?? 'you'}
            </span>
          ) : null}
          {status?.lastUsedAt ? <span>Last used {relativeTime(status.lastUsedAt)}</span> : null}
          {status?.checkedAt ? <span>Checked {relativeTime(status.checkedAt)}</span> : null}
        </div>
        {status?.lastError ? (
          <div className="resource-error" role="alert" data-testid="resource-error">
            <span className="message">
              <ErrorCodeLabel code={status.lastError.code} /> {status.lastError.message}
            </span>
            {status.lastError.action === 'sign-in' && session?.signInAvailable && !session.signingIn ? (
              <button className="button small" onClick={() => onSignIn(status.edge)}>
                Sign in
              </button>
            ) : status.lastError.action === 'edit' ? (
              <button className="button small" onClick={() => onEdit(resource)}>
                Edit
              </button>
            ) : (
              <button className="button small" onClick={() => onTest(resource)}>
                Try again
              </button>
            )}
          </div>
        ) : null}
      </div>
      <div className="resource-actions">
        <button
          className="button small"
          onClick={() => onTest(resource)}
          title="Ask the edge now whether it answers and admits you"
        >
          Test
        </button>
        <button className="button small" onClick={() => onCopy(resource)} title={connectCommand(resource)}>
          Copy command
        </button>
        <button className="button small" onClick={() => onEdit(resource)}>
          Edit
        </button>
        {desktop ? (
          <button className="button small" onClick={() => onShortcut(resource)}>
            Shortcut
          </button>
        ) : null}
        <button className="button small danger" onClick={() => onRemove(resource)}>
          Remove
        </button>
      </div>
    </li>
  );
}
