import { useState } from 'react';
import { Copy, Ellipsis } from 'lucide-react';
import type { Resource, ResourceStatus } from '../shared/contract/api.js';
import { ActionMenu, type MenuAction } from './ActionMenu.js';
import { ErrorCodeLabel } from './ErrorCodeLabel.js';
import { formatBytes, isOn, relativeTime, stateLabel, toggleClasses } from './format.js';
import { KindIcon } from './icons.js';
import { plainError } from './plain-words.js';

export interface RowActions {
  onToggle: (resource: Resource) => void;
  /** Resolves when the edge has answered, so "Try again" can say it is trying. */
  onTest: (resource: Resource) => Promise<unknown>;
  onSignIn: (edge: string) => void;
  onEdit: (resource: Resource) => void;
  onRemove: (resource: Resource) => void;
  onShortcut?: (resource: Resource) => void;
  onCopyCommand: (resource: Resource) => void;
  /** SSH resources: the ~/.ssh/config block (ProxyCommand through `airlock access ssh`). */
  onCopySshConfig: (resource: Resource) => void;
  onCopyAddress: (address: string) => void;
  /** Moves the resource to a free port and switches it on: the busy-port fix. */
  onUsePort: (resource: Resource, port: number) => void;
}

interface Props extends RowActions {
  resource: Resource;
  status: ResourceStatus | undefined;
  /** A sign-in for its edge can be started from here (none is waiting, and this build signs in). */
  canSignIn: boolean;
}

/**
 * One saved resource on one line at rest: its kind, name, state, local address (with a copy
 * button), switch and a menu for the rest. A second line only when there is something to say: an
 * error and its one fix, or the counters while in use. A group, not a listbox option: the
 * controls inside are each reachable and named for the resource.
 */
export function ResourceRow({ resource, status, canSignIn, ...actions }: Props) {
  const on = isOn(status);
  const state = status?.state ?? 'off';
  const address = status?.localAddress ?? `${resource.localHost}:${resource.localPort}`;
  const problem = status ? plainError(status, resource.localPort) : undefined;
  const [trying, setTrying] = useState(false);

  const fix = () => {
    if (!problem || !status) return;
    if (problem.fix === 'sign-in') return actions.onSignIn(status.edge);
    if (problem.fix === 'edit') return actions.onEdit(resource);
    if (problem.fix === 'use-port') return actions.onUsePort(resource, problem.port!);
    setTrying(true);
    void actions.onTest(resource).finally(() => setTrying(false));
  };
  const fixAvailable = problem && (problem.fix !== 'sign-in' || canSignIn);

  const menu: MenuAction[] = [
    { label: 'Test', onSelect: () => void actions.onTest(resource) },
    { label: 'Copy command', onSelect: () => actions.onCopyCommand(resource) },
    ...(resource.kind === 'ssh'
      ? [{ label: 'Copy SSH config', onSelect: () => actions.onCopySshConfig(resource) }]
      : []),
    { label: 'Edit', onSelect: () => actions.onEdit(resource) },
    ...(actions.onShortcut ? [{ label: 'Shortcut', onSelect: () => actions.onShortcut!(resource) }] : []),
    { label: 'Remove', onSelect: () => actions.onRemove(resource), danger: true },
  ];

  return (
    <div className={`resource state-${state}`} role="group" aria-label={resource.name} data-name={resource.name}>
      <div className="resource-line">
        <button
          className={toggleClasses(status)}
          role="switch"
          aria-checked={on}
          aria-label={`${on ? 'Disconnect' : 'Connect'} ${resource.name}`}
          data-row-focus
          onClick={() => actions.onToggle(resource)}
        >
          <span className="knob" />
        </button>
        <KindIcon kind={resource.kind} />
        <div className="resource-main">
          <span className="resource-name">{resource.name}</span>
          <span className="resource-host" title={resource.edge ? `via ${resource.edge}` : undefined}>
            {resource.hostname}
          </span>
        </div>
        <span className="resource-status" aria-live="polite">
          <span className={`dot dot-${state}`} aria-hidden="true" />
          <span className="state" data-testid="state" data-state={state}>
            {trying ? 'Trying…' : stateLabel(status)}
          </span>
        </span>
        <span className="address-cell">
          <span className="address" data-testid={status?.localAddress ? 'local-address' : 'configured-address'}>
            {address}
          </span>
          <button
            className="icon-button"
            aria-label={`Copy address of ${resource.name}`}
            title="Copy address"
            onClick={() => actions.onCopyAddress(address)}
          >
            <Copy size={14} aria-hidden="true" />
          </button>
        </span>
        <ActionMenu
          label={`More actions for ${resource.name}`}
          icon={<Ellipsis size={16} aria-hidden="true" />}
          actions={menu}
        />
      </div>
      {problem ? (
        <div
          className={`resource-error${state === 'signed-out' ? ' quiet' : ''}`}
          role={state === 'error' ? 'alert' : undefined}
          data-testid="resource-error"
        >
          <span className="message">{problem.sentence}</span>
          {fixAvailable ? (
            <button
              className="button small"
              onClick={fix}
              disabled={trying}
              aria-label={`${problem.fixLabel}: ${resource.name}`}
            >
              {trying ? 'Trying…' : problem.fixLabel}
            </button>
          ) : null}
          <details className="error-details">
            <summary>Details</summary>
            <ErrorCodeLabel code={status!.lastError!.code} /> {status!.lastError!.message}
          </details>
        </div>
      ) : null}
      {status?.offered === false ? (
        <div className="resource-note" title="Its edge no longer lists this application for you; the resource is kept">
          No longer offered by its edge
        </div>
      ) : null}
      {on && (status!.totalConnections > 0 || status!.lastUsedAt) ? (
        <div className="resource-meta" data-testid="resource-meta">
          {status!.totalConnections > 0 ? (
            <span className="counters" data-testid="counters">
              {status!.activeConnections} open · ↑ {formatBytes(status!.bytesUp)} · ↓ {formatBytes(status!.bytesDown)}
            </span>
          ) : null}
          {status?.lastUsedAt ? <span className="last-used">Last used {relativeTime(status.lastUsedAt)}</span> : null}
        </div>
      ) : null}
    </div>
  );
}
