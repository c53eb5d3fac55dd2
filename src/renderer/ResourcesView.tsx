import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { EdgeSession, Resource, ResourceStatus } from '../shared/contract/api.js';
import { connectCommand } from '../shared/contract/commands.js';
import { ErrorCodeLabel } from './ErrorCodeLabel.js';
import { formatBytes, hostOf, isOn, relativeTime, stateLabel } from './format.js';

interface Props {
  resources: Resource[];
  statuses: Map<string, ResourceStatus>;
  sessions: EdgeSession[];
  desktop: boolean;
  onToggle: (resource: Resource) => void;
  onTest: (resource: Resource) => void;
  onSignIn: (edge: string) => void;
  onAdd: () => void;
  onEdit: (resource: Resource) => void;
  onRemove: (resource: Resource) => void;
  onImport: (file: File) => void;
  onExport: () => void;
  onShortcut: (resource: Resource) => void;
  notify: (message: string) => void;
}

export function ResourcesView({ resources, statuses, sessions, desktop, onToggle, onTest, onSignIn, onAdd, onEdit, onRemove, onImport, onExport, onShortcut, notify }: Props) {
  const [query, setQuery] = useState('');
  const [tag, setTag] = useState<string | undefined>();
  const [selected, setSelected] = useState(0);
  const search = useRef<HTMLInputElement>(null);
  const importInput = useRef<HTMLInputElement>(null);
  const rows = useRef<(HTMLLIElement | null)[]>([]);

  const tags = useMemo(() => [...new Set(resources.flatMap((resource) => resource.tags))].sort(), [resources]);
  const visible = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return [...resources]
      .sort((a, b) => a.name.localeCompare(b.name))
      .filter((resource) => !tag || resource.tags.includes(tag))
      .filter((resource) => words.every((word) => `${resource.name} ${resource.hostname} ${resource.tags.join(' ')} ${resource.kind} ${resource.localPort}`.toLowerCase().includes(word)));
  }, [resources, query, tag]);

  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      const typing = event.target instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
      if (event.key === '/' && !typing) {
        event.preventDefault();
        search.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => setSelected((current) => Math.min(current, Math.max(visible.length - 1, 0))), [visible.length]);

  const move = (to: number) => {
    const next = Math.max(0, Math.min(visible.length - 1, to));
    setSelected(next);
    rows.current[next]?.focus();
  };

  const onListKey = (event: KeyboardEvent) => {
    if (event.target instanceof HTMLElement && event.target.tagName === 'BUTTON' && event.key === 'Enter') return;
    const resource = visible[selected];
    if (event.key === 'ArrowDown' || event.key === 'j') move(selected + 1);
    else if (event.key === 'ArrowUp' || event.key === 'k') move(selected - 1);
    else if (event.key === 'Enter' && resource) onToggle(resource);
    else if (event.key === 'e' && resource) onEdit(resource);
    else return;
    event.preventDefault();
  };

  const onSearchKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter' && visible[selected]) onToggle(visible[selected]!);
    else if (event.key === 'ArrowDown') move(0);
    else if (event.key === 'Escape') setQuery('');
    else return;
    event.preventDefault();
  };

  const copy = async (resource: Resource) => {
    const command = connectCommand(resource);
    try {
      await navigator.clipboard.writeText(command);
      notify(`Copied: ${command}`);
    } catch {
      notify(`Copy this: ${command}`);
    }
  };

  const toolbar = (
    <div className="toolbar">
      <div className="search">
        <input ref={search} type="search" placeholder="Search resources" aria-label="Search resources" value={query} onChange={(event) => setQuery(event.target.value)} onKeyDown={onSearchKey} />
        <kbd aria-hidden="true">/</kbd>
      </div>
      <button className="button primary" onClick={onAdd}>
        Add resource
      </button>
      <button className="button" onClick={() => importInput.current?.click()}>
        Import
      </button>
      <button className="button" onClick={onExport} disabled={resources.length === 0}>
        Export
      </button>
      <input
        ref={importInput}
        type="file"
        accept="application/json,.json"
        hidden
        data-testid="import-file"
        onChange={(event) => {
          const file = event.target.files?.[0];
          if (file) onImport(file);
          event.target.value = '';
        }}
      />
    </div>
  );

  if (resources.length === 0) {
    return (
      <section className="view">
        {toolbar}
        <div className="empty">
          <h2>No resources yet</h2>
          <p>Airlock opens a private service — SSH, a database, Redis, remote desktop — on a port of this computer, after you sign in with your organisation’s account.</p>
          <ol>
            <li>Add a resource: the hostname your administrator gave you (for example db.example.com) and a free local port.</li>
            <li>Switch it on. Airlock listens on 127.0.0.1 at that port.</li>
            <li>Use “Copy command” to paste the ssh, psql or redis-cli line.</li>
          </ol>
          <div className="empty-actions">
            <button className="button primary" onClick={onAdd}>
              Add your first resource
            </button>
            <button className="button" onClick={() => importInput.current?.click()}>
              Import a JSON file
            </button>
          </div>
        </div>
      </section>
    );
  }

  return (
    <section className="view">
      {toolbar}
      {tags.length > 0 ? (
        <div className="tags" role="group" aria-label="Filter by tag">
          <button className={`chip${tag === undefined ? ' active' : ''}`} onClick={() => setTag(undefined)}>
            All
          </button>
          {tags.map((name) => (
            <button key={name} className={`chip${tag === name ? ' active' : ''}`} aria-pressed={tag === name} onClick={() => setTag(tag === name ? undefined : name)}>
              {name}
            </button>
          ))}
        </div>
      ) : null}
      {visible.length === 0 ? <p className="no-match">No resource matches “{query}”.</p> : null}
      <ul className="resources" role="listbox" aria-label="Resources" onKeyDown={onListKey}>
        {visible.map((resource, index) => {
          const status = statuses.get(resource.id);
          const on = isOn(status);
          const state = status?.state ?? 'off';
          const session = sessions.find((entry) => entry.edge === status?.edge);
          return (
            <li
              key={resource.id}
              ref={(element) => {
                rows.current[index] = element;
              }}
              className={`resource state-${state}${index === selected ? ' selected' : ''}`}
              role="option"
              aria-selected={index === selected}
              tabIndex={index === selected ? 0 : -1}
              onClick={() => setSelected(index)}
              data-name={resource.name}
            >
              <button
                className={`toggle${on ? ' on' : ''}${on && (state === 'listening' || state === 'signing-in') ? ' pending' : ''}${on && state === 'error' ? ' failing' : ''}`}
                role="switch"
                aria-checked={on}
                aria-label={`${on ? 'Disconnect' : 'Connect'} ${resource.name}`}
                onClick={(event) => {
                  event.stopPropagation();
                  setSelected(index);
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
                    <span className="tag not-offered" title="Its edge no longer lists this application for you; the resource is kept">
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
                  {session?.signedIn ? <span title={session.edge}>Signed in to {hostOf(session.edge)} as {session.email ?? 'you'}</span> : null}
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
                <button className="button small" onClick={() => onTest(resource)} title="Ask the edge now whether it answers and admits you">
                  Test
                </button>
                <button className="button small" onClick={() => copy(resource)} title={connectCommand(resource)}>
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
        })}
      </ul>
      <p className="hint">
        <kbd>/</kbd> search · <kbd>↑</kbd>
        <kbd>↓</kbd> select · <kbd>Enter</kbd> connect or disconnect · <kbd>e</kbd> edit
      </p>
    </section>
  );
}
