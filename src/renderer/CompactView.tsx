import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { AppWindow, Compass, Ellipsis, Power, Settings } from 'lucide-react';
import { edgeHost, type Resource } from '../shared/contract/api.js';
import { connectCommand } from '../shared/contract/commands.js';
import { ActionMenu, type MenuAction } from './ActionMenu.js';
import type { Client } from './api-client.js';
import { copyText } from './copy-text.js';
import { isOn, stateLabel, toggleClasses } from './format.js';
import { groupByEdge } from './grouping.js';
import { needsYou, plainError } from './plain-words.js';
import { SignInPrompts } from './SignInPrompts.js';
import type { AirlockState } from './use-airlock.js';

interface Props {
  client: Client;
  state: AirlockState;
  notify: (message: string) => void;
  report: (error: unknown) => void;
  onCopySshConfig: (resource: Resource) => void;
  onQuit: () => void;
}

/** "3 ready · 1 in use · 1 needs you": the tray panel's one-line summary. */
export function summarise(states: string[]): string {
  const count = (test: (state: string) => boolean) => states.filter(test).length;
  const parts = [
    [count((state) => state === 'ready'), 'ready'],
    [count((state) => state === 'in-use'), 'in use'],
    [count((state) => needsYou(state as never)), 'need you'],
  ] as const;
  const said = parts
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${n === 1 && what === 'need you' ? 'needs you' : what}`);
  return said.length > 0 ? said.join(' · ') : states.length > 0 ? 'All off' : 'No resources yet';
}

/**
 * The tray panel: a fixed header (summary, account, search), the resources by edge in a list that
 * scrolls inside the panel, one-line errors with their one fix, and a pinned footer. ↑↓ move
 * between switches, Enter switches, Esc clears the search and, when it is empty, closes the panel.
 */
export function CompactView({ client, state, notify, report, onCopySshConfig, onQuit }: Props) {
  const [query, setQuery] = useState('');
  const search = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLDivElement>(null);
  const desktop = client.mode === 'desktop';
  const attempt = (work: Promise<unknown>) => void work.catch(report);
  const toggle = (resource: Resource) =>
    attempt(
      isOn(state.statuses.get(resource.id))
        ? client.api.disconnect({ id: resource.id })
        : client.api.connect({ id: resource.id }),
    );

  // Search is where typing goes when the panel opens (and each time it is shown again).
  useEffect(() => {
    search.current?.focus();
    const onFocus = () => search.current?.focus();
    window.addEventListener('focus', onFocus);
    return () => window.removeEventListener('focus', onFocus);
  }, []);

  const visible = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return state.resources.filter((resource) =>
      words.every((word) => `${resource.name} ${resource.hostname}`.toLowerCase().includes(word)),
    );
  }, [state.resources, query]);
  const groups = useMemo(() => groupByEdge(visible, state.statuses), [visible, state.statuses]);
  const summary = summarise(state.resources.map((resource) => state.statuses.get(resource.id)?.state ?? 'off'));
  const accounts = [
    ...new Set(state.sessions.filter((session) => session.signedIn).map((s) => s.email ?? 'signed in')),
  ];

  const switches = () => Array.from(list.current?.querySelectorAll<HTMLElement>('[role=switch]') ?? []);
  const onKey = (event: KeyboardEvent) => {
    const all = switches();
    const at = all.indexOf(document.activeElement as HTMLElement);
    if (event.key === 'ArrowDown') (at < 0 ? all[0] : all[Math.min(at + 1, all.length - 1)])?.focus();
    else if (event.key === 'ArrowUp') (at <= 0 ? search.current : all[at - 1])?.focus();
    else if (event.key === 'Escape') {
      if (event.defaultPrevented) return; // a menu inside closed itself
      // The first Esc clears the search; with nothing to clear, the panel goes away (the desktop
      // app hides it; browser mode, where the panel is a page, shows the window's view instead).
      if (query === '') return void (desktop ? attempt(client.api.hideTray()) : (window.location.hash = 'resources'));
      setQuery('');
      search.current?.focus();
    } else return;
    event.preventDefault();
  };

  const go = (view: 'resources' | 'browse' | 'settings') =>
    desktop ? attempt(client.api.openWindow()) : (window.location.hash = view);

  return (
    <div className="compact" onKeyDown={onKey}>
      <header className="compact-header">
        <div className="compact-heading">
          <h1 className="compact-title">Airlock</h1>
          <span className="compact-summary" data-testid="tray-summary">
            {summary}
          </span>
        </div>
        {accounts.length > 0 ? (
          <div className="compact-account muted" data-testid="tray-account">
            {accounts.join(', ')}
          </div>
        ) : null}
        <input
          ref={search}
          type="search"
          className="compact-search"
          placeholder="Search"
          aria-label="Search resources"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
        />
      </header>
      <SignInPrompts
        sessions={state.sessions}
        onSignIn={(edge) => attempt(client.api.signIn({ edge }))}
        onCancel={(edge) => attempt(client.api.cancelSignIn({ edge }))}
        notify={notify}
      />
      <main className="compact-main-area" ref={list}>
        {state.resources.length === 0 ? (
          <p className="compact-empty">No resources yet. Browse what your organisation offers to add one.</p>
        ) : null}
        {groups.map((group) => (
          <section key={group.edge} className="compact-section" aria-label={edgeHost(group.edge)}>
            <h2 className="compact-edge">{edgeHost(group.edge)}</h2>
            <div className="compact-list">
              {group.resources.map((resource) => {
                const status = state.statuses.get(resource.id);
                const on = isOn(status);
                const current = status?.state ?? 'off';
                const problem = status ? plainError(status, resource.localPort) : undefined;
                const session = state.sessions.find((entry) => entry.edge === group.edge);
                const menu: MenuAction[] = [
                  {
                    label: 'Copy command',
                    onSelect: () => void copyText(connectCommand(resource), 'the command', notify),
                  },
                  ...(resource.kind === 'ssh'
                    ? [{ label: 'Copy SSH config', onSelect: () => onCopySshConfig(resource) }]
                    : []),
                  { label: 'Test', onSelect: () => attempt(client.api.testResource({ id: resource.id })) },
                ];
                return (
                  <div
                    key={resource.id}
                    className={`compact-row state-${current}`}
                    role="group"
                    aria-label={resource.name}
                    data-name={resource.name}
                  >
                    <button
                      className={`${toggleClasses(status)} small`}
                      role="switch"
                      aria-checked={on}
                      aria-label={`${on ? 'Disconnect' : 'Connect'} ${resource.name}`}
                      onClick={() => toggle(resource)}
                    >
                      <span className="knob" />
                    </button>
                    <span className="resource-name">{resource.name}</span>
                    <span className="compact-state">
                      <span className={`dot dot-${current}`} aria-hidden="true" />
                      <span className="state" data-testid="state">
                        {stateLabel(status)}
                      </span>
                    </span>
                    <span className="compact-address">
                      {status?.localAddress ?? `${resource.localHost}:${resource.localPort}`}
                    </span>
                    <ActionMenu
                      label={`More actions for ${resource.name}`}
                      icon={<Ellipsis size={16} aria-hidden="true" />}
                      actions={menu}
                    />
                    {problem ? (
                      <span className="compact-error" data-testid="tray-error">
                        <span className="message" title={status!.lastError!.message}>
                          {problem.sentence}
                        </span>
                        {problem.fix === 'sign-in' && session?.signInAvailable && !session.signingIn ? (
                          <button
                            className="button small"
                            onClick={() => attempt(client.api.signIn({ edge: group.edge }))}
                            aria-label={`${problem.fixLabel}: ${resource.name}`}
                          >
                            {problem.fixLabel}
                          </button>
                        ) : problem.fix === 'use-port' ? (
                          <button
                            className="button small"
                            onClick={() =>
                              attempt(
                                client.api
                                  .updateResource({ id: resource.id, changes: { localPort: problem.port! } })
                                  .then(() => client.api.connect({ id: resource.id })),
                              )
                            }
                            aria-label={`${problem.fixLabel}: ${resource.name}`}
                          >
                            {problem.fixLabel}
                          </button>
                        ) : problem.fix === 'try-again' ? (
                          <button
                            className="button small"
                            onClick={() => attempt(client.api.testResource({ id: resource.id }))}
                            aria-label={`${problem.fixLabel}: ${resource.name}`}
                          >
                            {problem.fixLabel}
                          </button>
                        ) : null}
                      </span>
                    ) : null}
                  </div>
                );
              })}
            </div>
          </section>
        ))}
      </main>
      <footer className="compact-footer">
        {desktop ? (
          <button className="button small primary" onClick={() => attempt(client.api.openWindow())}>
            <AppWindow size={14} aria-hidden="true" /> Open Airlock
          </button>
        ) : (
          <a className="button small primary" href="#resources">
            <AppWindow size={14} aria-hidden="true" /> Open Airlock
          </a>
        )}
        <button className="button small" onClick={() => go('browse')}>
          <Compass size={14} aria-hidden="true" /> Browse
        </button>
        <button className="button small" onClick={() => go('settings')}>
          <Settings size={14} aria-hidden="true" /> Settings
        </button>
        <button className="button small compact-quit" onClick={onQuit}>
          <Power size={14} aria-hidden="true" /> Quit
        </button>
      </footer>
    </div>
  );
}
