import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { EdgeSession, Resource, ResourceStatus } from '../shared/contract/api.js';
import { connectCommand } from '../shared/contract/commands.js';
import { ResourceRow } from './ResourceRow.js';

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

export function ResourcesView({
  resources,
  statuses,
  sessions,
  desktop,
  onToggle,
  onTest,
  onSignIn,
  onAdd,
  onEdit,
  onRemove,
  onImport,
  onExport,
  onShortcut,
  notify,
}: Props) {
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
      .filter((resource) =>
        words.every((word) =>
          `${resource.name} ${resource.hostname} ${resource.tags.join(' ')} ${resource.kind} ${resource.localPort}`
            .toLowerCase()
            .includes(word),
        ),
      );
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
        <input
          ref={search}
          type="search"
          placeholder="Search resources"
          aria-label="Search resources"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
          onKeyDown={onSearchKey}
        />
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
          <p>
            Airlock opens a private service — SSH, a database, Redis, remote desktop — on a port of this computer, after
            you sign in with your organisation’s account.
          </p>
          <ol>
            <li>
              Add a resource: the hostname your administrator gave you (for example db.example.com) and a free local
              port.
            </li>
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
            <button
              key={name}
              className={`chip${tag === name ? ' active' : ''}`}
              aria-pressed={tag === name}
              onClick={() => setTag(tag === name ? undefined : name)}
            >
              {name}
            </button>
          ))}
        </div>
      ) : null}
      {visible.length === 0 ? <p className="no-match">No resource matches “{query}”.</p> : null}
      <ul className="resources" role="listbox" aria-label="Resources" onKeyDown={onListKey}>
        {visible.map((resource, index) => {
          const status = statuses.get(resource.id);
          return (
            <ResourceRow
              key={resource.id}
              resource={resource}
              status={status}
              session={sessions.find((entry) => entry.edge === status?.edge)}
              selected={index === selected}
              desktop={desktop}
              rowRef={(element) => {
                rows.current[index] = element;
              }}
              onSelect={() => setSelected(index)}
              onToggle={onToggle}
              onTest={onTest}
              onSignIn={onSignIn}
              onEdit={onEdit}
              onRemove={onRemove}
              onShortcut={onShortcut}
              onCopy={copy}
            />
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
