import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { Download, Ellipsis, Plus, Upload } from 'lucide-react';
import type { EdgeSession, Resource, ResourceStatus } from '../shared/contract/api.js';
import { ActionMenu } from './ActionMenu.js';
import { EdgeSection } from './EdgeSection.js';
import { groupByEdge } from './grouping.js';
import { ResourceRow, type RowActions } from './ResourceRow.js';

interface Props extends RowActions {
  resources: Resource[];
  statuses: Map<string, ResourceStatus>;
  sessions: EdgeSession[];
  onAdd: () => void;
  onImport: (file: File) => void;
  onExport: () => void;
  onSignOut: (edge: string) => void;
  /** First run: go to Browse, where one sign-in lists what the organisation offers. */
  onBrowse: () => void;
}

export function ResourcesView({
  resources,
  statuses,
  sessions,
  onAdd,
  onImport,
  onExport,
  onSignOut,
  onBrowse,
  ...rowActions
}: Props) {
  const [query, setQuery] = useState('');
  const [tag, setTag] = useState<string | undefined>();
  const search = useRef<HTMLInputElement>(null);
  const importInput = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLDivElement>(null);

  const tags = useMemo(() => [...new Set(resources.flatMap((resource) => resource.tags))].sort(), [resources]);
  const visible = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return resources
      .filter((resource) => !tag || resource.tags.includes(tag))
      .filter((resource) =>
        words.every((word) =>
          `${resource.name} ${resource.hostname} ${resource.tags.join(' ')} ${resource.kind} ${resource.localPort}`
            .toLowerCase()
            .includes(word),
        ),
      );
  }, [resources, query, tag]);
  const groups = useMemo(() => groupByEdge(visible, statuses), [visible, statuses]);

  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      const typing = event.target instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
      if (typing || event.ctrlKey || event.metaKey || event.altKey || document.querySelector('dialog[open]')) return;
      if (event.key === '/') {
        event.preventDefault();
        search.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  /** The rows' switches in the order shown: ↑↓ move between them. */
  const rowFocus = () => Array.from(list.current?.querySelectorAll<HTMLElement>('[data-row-focus]') ?? []);
  const move = (by: number) => {
    const all = rowFocus();
    const current = all.findIndex((element) => element.closest('.resource')?.contains(document.activeElement));
    all[Math.max(0, Math.min(all.length - 1, current < 0 ? 0 : current + by))]?.focus();
  };

  const onListKey = (event: KeyboardEvent) => {
    if (event.target instanceof HTMLElement && event.target.closest('[role=menu], details')) return;
    const focused = (event.target as HTMLElement).closest<HTMLElement>('.resource')?.dataset.name;
    const resource = resources.find((entry) => entry.name === focused);
    if (event.key === 'ArrowDown' || event.key === 'j') move(1);
    else if (event.key === 'ArrowUp' || event.key === 'k') move(-1);
    else if (event.key === 'e' && resource) rowActions.onEdit(resource);
    else return;
    event.preventDefault();
  };

  const onSearchKey = (event: KeyboardEvent<HTMLInputElement>) => {
    const first = groups[0]?.resources[0];
    if (event.key === 'Enter' && first) rowActions.onToggle(first);
    else if (event.key === 'ArrowDown') rowFocus()[0]?.focus();
    else if (event.key === 'Escape') setQuery('');
    else return;
    event.preventDefault();
  };

  const importPicker = (
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
  );

  if (resources.length === 0) {
    return (
      <section className="view" aria-labelledby="view-title">
        <h1 id="view-title" className="view-title">
          Resources
        </h1>
        <div className="empty">
          <h2>No resources yet</h2>
          <p>
            Airlock opens your organisation’s private services — SSH, databases, Redis, remote desktop — on this
            computer, after you sign in with your work account.
          </p>
          <div className="empty-actions">
            <button className="button primary" onClick={onBrowse}>
              Sign in to your organisation
            </button>
          </div>
          <p className="empty-secondary">
            Have a hostname from your administrator?{' '}
            <button className="link-button" onClick={onAdd}>
              Add a resource by hand
            </button>{' '}
            or{' '}
            <button className="link-button" onClick={() => importInput.current?.click()}>
              import a JSON file
            </button>
            .
          </p>
          {importPicker}
        </div>
      </section>
    );
  }

  return (
    <section className="view" aria-labelledby="view-title">
      <div className="toolbar">
        <h1 id="view-title" className="view-title">
          Resources
        </h1>
        <div className="search">
          <input
            ref={search}
            type="search"
            placeholder="Search"
            aria-label="Search resources"
            value={query}
            onChange={(event) => setQuery(event.target.value)}
            onKeyDown={onSearchKey}
          />
          <kbd aria-hidden="true">/</kbd>
        </div>
        <button className="button primary add-button" onClick={onAdd} aria-keyshortcuts="n" title="Add resource (n)">
          <Plus size={16} aria-hidden="true" /> <span className="add-label">Add resource</span>
        </button>
        <button
          className="icon-button bordered toolbar-wide"
          onClick={() => importInput.current?.click()}
          aria-label="Import"
          title="Import resources from a JSON file"
        >
          <Upload size={16} aria-hidden="true" />
        </button>
        <button
          className="icon-button bordered toolbar-wide"
          onClick={onExport}
          aria-label="Export"
          title="Export resources to a JSON file"
        >
          <Download size={16} aria-hidden="true" />
        </button>
        {/* The narrowest windows: the two behind one menu, so the h1 and a usable search share the line. */}
        <ActionMenu
          className="toolbar-narrow"
          label="Import or export resources"
          icon={<Ellipsis size={16} aria-hidden="true" />}
          actions={[
            { label: 'Import…', onSelect: () => importInput.current?.click() },
            { label: 'Export', onSelect: onExport },
          ]}
        />
        {importPicker}
      </div>
      {tags.length > 0 ? (
        <div className="tags" role="group" aria-label="Filter by tag">
          <button className="chip" aria-pressed={tag === undefined} onClick={() => setTag(undefined)}>
            All
          </button>
          {tags.map((name) => (
            <button
              key={name}
              className="chip"
              aria-pressed={tag === name}
              onClick={() => setTag(tag === name ? undefined : name)}
            >
              {name}
            </button>
          ))}
        </div>
      ) : null}
      {visible.length === 0 ? <p className="no-match">No resource matches “{query}”.</p> : null}
      <div ref={list} className="sections" onKeyDown={onListKey}>
        {groups.map((group) => (
          <EdgeSection
            key={group.edge}
            edge={group.edge}
            session={sessions.find((session) => session.edge === group.edge)}
            count={group.resources.length}
            onSignIn={rowActions.onSignIn}
            onSignOut={onSignOut}
          >
            <div className="resources">
              {group.resources.map((resource) => {
                const session = sessions.find((entry) => entry.edge === group.edge);
                return (
                  <ResourceRow
                    key={resource.id}
                    resource={resource}
                    status={statuses.get(resource.id)}
                    canSignIn={Boolean(session?.signInAvailable && !session.signingIn)}
                    {...rowActions}
                  />
                );
              })}
            </div>
          </EdgeSection>
        ))}
      </div>
    </section>
  );
}
