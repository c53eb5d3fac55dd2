import { useCallback, useEffect, useRef, useState } from 'react';
import {
  edgeHost,
  ApiError,
  type About,
  type Resource,
  type ResourceFields,
  type Settings,
} from '../shared/contract/api.js';
import { Keyboard } from 'lucide-react';
import { connectCommand } from '../shared/contract/commands.js';
import type { Client } from './api-client.js';
import { BrowseView } from './BrowseView.js';
import { CompactView } from './CompactView.js';
import { copyText } from './copy-text.js';
import { ErrorCodeLabel } from './ErrorCodeLabel.js';
import { LogsView } from './LogsView.js';
import { ResourceForm } from './ResourceForm.js';
import { ResourcesView } from './ResourcesView.js';
import { ShortcutSheet } from './ShortcutSheet.js';
import { SignInPrompts } from './SignInPrompts.js';
import { isOn, stateLabel } from './format.js';
import { plainError } from './plain-words.js';
import { SettingsView } from './SettingsView.js';
import { useAirlock } from './use-airlock.js';

const VIEWS = ['resources', 'browse', 'settings', 'logs'] as const;
type View = (typeof VIEWS)[number];
const viewOfHash = (): View | undefined => VIEWS.find((name) => window.location.hash === `#${name}`);
type FormState = { mode: 'closed' } | { mode: 'add' } | { mode: 'edit'; resource: Resource };

export function App({ client }: { client: Client }) {
  const state = useAirlock(client);
  const [view, setView] = useState<View>(() => viewOfHash() ?? 'resources');
  const [sheet, setSheet] = useState(false);
  const [form, setForm] = useState<FormState>({ mode: 'closed' });
  const [toast, setToast] = useState<{ message: string; error: boolean; code?: string } | undefined>();
  const [about, setAbout] = useState<About | undefined>();
  const desktop = client.mode === 'desktop';
  // The tray popover loads the same page with #tray: the compact list, nothing to edit.
  const [compact, setCompact] = useState(() => window.location.hash === '#tray');
  useEffect(() => {
    const onHash = () => {
      setCompact(window.location.hash === '#tray');
      const named = viewOfHash();
      if (named) setView(named);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    document.documentElement.dataset.theme = state.settings.theme;
  }, [state.settings.theme]);

  useEffect(() => {
    if (view === 'settings') void client.api.getAbout().then(setAbout, () => setAbout(undefined));
  }, [view, client]);

  useEffect(() => {
    if (!toast) return;
    const timer = setTimeout(() => setToast(undefined), toast.error ? 8000 : 3000);
    return () => clearTimeout(timer);
  }, [toast]);

  const notify = useCallback((message: string) => setToast({ message, error: false }), []);
  const report = useCallback(
    (error: unknown) =>
      setToast({
        message: error instanceof Error ? error.message : String(error),
        error: true,
        ...(error instanceof ApiError ? { code: error.code } : {}),
      }),
    [],
  );
  const attempt = useCallback((work: Promise<unknown>) => work.catch(report), [report]);

  // Quit: the desktop app ends; browser mode stops its server, so a lost connection is the answer too.
  const [quitted, setQuitted] = useState(false);
  const quit = () =>
    void client.api.quit().then(
      () => setQuitted(true),
      (error: unknown) =>
        error instanceof ApiError && error.code === 'DISCONNECTED' ? setQuitted(true) : report(error),
    );

  const toggle = (resource: Resource) => {
    const on = isOn(state.statuses.get(resource.id));
    void attempt(on ? client.api.disconnect({ id: resource.id }) : client.api.connect({ id: resource.id }));
  };

  // Says what happened either way, so "Try again" is never a click into silence.
  const test = (resource: Resource) =>
    attempt(
      client.api.testResource({ id: resource.id }).then((status) => {
        const problem = plainError(status, resource.localPort);
        if (status.state === 'error' && problem)
          return setToast({ message: `${resource.name}: ${problem.sentence}`, error: true });
        notify(
          status.state === 'off'
            ? `${resource.name}: the edge answered and admits you. Switch it on to use it.`
            : `${resource.name}: ${stateLabel(status)}. The edge answered and admits you.`,
        );
      }),
    );

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const typing = event.target instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
      if (typing || event.ctrlKey || event.metaKey || event.altKey || document.querySelector('dialog[open]')) return;
      if (event.key === '?') setSheet(true);
      else if (event.key === 'n' && !compact) {
        setView('resources');
        setForm({ mode: 'add' });
      } else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [compact]);

  const copy = (text: string, said: string) => copyText(text, said, notify);
  const copySshConfig = (resource: Resource) =>
    void attempt(
      client.api
        .sshConfig({ id: resource.id })
        .then(({ text }) =>
          copyText(
            text,
            `the SSH config for ${resource.name}`,
            notify,
            'Paste it into ~/.ssh/config, then ssh to its host.',
          ),
        ),
    );

  const signIn = (edge: string) =>
    void attempt(
      client.api
        .signIn({ edge })
        .then((session) => notify(`Signed in to ${edgeHost(edge)}${session.email ? ` as ${session.email}` : ''}`)),
    );
  const cancelSignIn = (edge: string) =>
    void attempt(client.api.cancelSignIn({ edge }).then(() => notify(`Sign-in to ${edgeHost(edge)} cancelled`)));

  // A sign-in started by a connection (not the Sign in button) also ends with a word to the user.
  const waitingFor = useRef(new Set<string>());
  useEffect(() => {
    for (const session of state.sessions) {
      if (session.signingIn) waitingFor.current.add(session.edge);
      else if (waitingFor.current.delete(session.edge) && session.signedIn)
        notify(`Signed in to ${edgeHost(session.edge)}${session.email ? ` as ${session.email}` : ''}`);
    }
  }, [state.sessions, notify]);

  const save = async (value: ResourceFields) => {
    if (form.mode === 'edit') {
      const { edge, ...rest } = value;
      await client.api.updateResource({ id: form.resource.id, changes: { ...rest, edge: edge ?? null } });
      notify(`Saved ${value.name}`);
    } else {
      await client.api.addResource(value);
      notify(`Added ${value.name}. Switch it on to connect.`);
    }
    setForm({ mode: 'closed' });
  };

  const remove = (resource: Resource) => {
    if (!window.confirm(`Remove ${resource.name}? This disconnects it and forgets its settings.`)) return;
    void attempt(client.api.removeResource({ id: resource.id }).then(() => notify(`Removed ${resource.name}`)));
  };

  const importFile = (file: File) =>
    void attempt(
      file.text().then(async (json) => {
        const result = await client.api.importResources({ json });
        const skipped = result.skipped.map((entry) => `${entry.name} (${entry.reason})`).join('; ');
        setToast({
          message: `Imported ${result.added.length}.${skipped ? ` Skipped: ${skipped}` : ''}`,
          error: result.skipped.length > 0,
        });
      }),
    );

  const exportFile = () =>
    void attempt(
      client.api.exportResources().then(({ json }) => {
        const link = document.createElement('a');
        link.href = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
        link.download = 'airlock-resources.json';
        link.click();
        setTimeout(() => URL.revokeObjectURL(link.href), 1000);
      }),
    );

  const updateSettings = (changes: Partial<Settings>) => {
    const before = state.settings;
    state.showSettings(changes);
    void attempt(
      client.api.updateSettings(changes).catch((error: unknown) => {
        state.showSettings(before);
        throw error;
      }),
    );
  };

  const toastView = toast ? (
    <div className={`toast${toast.error ? ' error' : ''}`} role="status">
      {toast.message}
      {toast.code ? (
        <>
          {' '}
          <ErrorCodeLabel code={toast.code} />
        </>
      ) : null}
    </div>
  ) : null;

  if (quitted) {
    // Browser mode after Quit: the server and every listener are gone; say so instead of "retrying".
    return (
      <main className="quitted">
        <h1>Airlock has quit</h1>
        <p>Its local ports are closed and programs can no longer connect through it.</p>
        <p className="muted">Start Airlock again to use your resources. You can close this page.</p>
      </main>
    );
  }

  if (compact) {
    return (
      <>
        <CompactView
          client={client}
          state={state}
          notify={notify}
          report={report}
          onCopySshConfig={copySshConfig}
          onQuit={quit}
        />
        {sheet ? <ShortcutSheet onClose={() => setSheet(false)} /> : null}
        {toastView}
      </>
    );
  }

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true" />
          <span className="brand-name">Airlock</span>
        </div>
        <nav aria-label="Main">
          {VIEWS.map((name) => (
            <button
              key={name}
              className={`nav${view === name ? ' active' : ''}`}
              aria-current={view === name ? 'page' : undefined}
              onClick={() => setView(name)}
            >
              {name[0]!.toUpperCase() + name.slice(1)}
            </button>
          ))}
        </nav>
        <button
          className="icon-button shortcuts-button"
          onClick={() => setSheet(true)}
          aria-label="Keyboard shortcuts"
          aria-keyshortcuts="?"
          title="Keyboard shortcuts (?)"
        >
          <Keyboard size={18} aria-hidden="true" />
        </button>
      </header>
      <SignInPrompts sessions={state.sessions} onSignIn={signIn} onCancel={cancelSignIn} notify={notify} />
      {!state.connected ? (
        <div className="banner" role="alert">
          Lost the connection to Airlock. Retrying… If you closed Airlock, start it again.
        </div>
      ) : null}
      <main>
        {!state.loaded ? (
          <p className="loading">Loading…</p>
        ) : view === 'resources' ? (
          <ResourcesView
            resources={state.resources}
            statuses={state.statuses}
            sessions={state.sessions}
            onToggle={toggle}
            onTest={test}
            onSignIn={signIn}
            onSignOut={(edge) =>
              void attempt(client.api.signOut({ edge }).then(() => notify(`Signed out of ${edgeHost(edge)}`)))
            }
            onAdd={() => setForm({ mode: 'add' })}
            onEdit={(resource) => setForm({ mode: 'edit', resource })}
            onRemove={remove}
            onImport={importFile}
            onExport={exportFile}
            onBrowse={() => setView('browse')}
            {...(desktop
              ? {
                  onShortcut: (resource: Resource) =>
                    void attempt(
                      client.api
                        .createShortcut({ id: resource.id })
                        .then(({ path }) => notify(`Shortcut created: ${path}`)),
                    ),
                }
              : {})}
            onCopyCommand={(resource) => void copy(connectCommand(resource), 'the command')}
            onCopySshConfig={copySshConfig}
            onCopyAddress={(address) => void copy(address, 'the address')}
            onUsePort={(resource, port) =>
              void attempt(
                client.api
                  .updateResource({ id: resource.id, changes: { localPort: port } })
                  .then(() => client.api.connect({ id: resource.id }))
                  .then(() => notify(`${resource.name} now uses port ${port}`)),
              )
            }
          />
        ) : view === 'browse' ? (
          <BrowseView
            client={client}
            sessions={state.sessions}
            resources={state.resources}
            statuses={state.statuses}
            onToggle={toggle}
            onAdded={notify}
            onError={report}
            notify={notify}
          />
        ) : view === 'settings' ? (
          <SettingsView
            settings={state.settings}
            resources={state.resources}
            desktop={desktop}
            about={about}
            onChange={updateSettings}
          />
        ) : (
          <LogsView logs={state.logs} resources={state.resources} />
        )}
      </main>
      {form.mode !== 'closed' ? (
        <ResourceForm
          editing={form.mode === 'edit' ? form.resource : undefined}
          resources={state.resources}
          onSubmit={save}
          onCancel={() => setForm({ mode: 'closed' })}
        />
      ) : null}
      {sheet ? <ShortcutSheet onClose={() => setSheet(false)} /> : null}
      {toastView}
    </div>
  );
}
