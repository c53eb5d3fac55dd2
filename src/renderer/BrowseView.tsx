import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import {
  edgeHost,
  type Discovery,
  type EdgeSession,
  type Resource,
  type ResourceStatus,
} from '../shared/contract/api.js';
import type { Client } from './api-client.js';
import { isOn, stateLabel, toggleClasses } from './format.js';

interface Props {
  client: Client;
  /** Signed-in edges: one list each. */
  sessions: EdgeSession[];
  resources: Resource[];
  statuses: Map<string, ResourceStatus>;
  onToggle: (resource: Resource) => void;
  onAdded: (message: string) => void;
  onError: (error: unknown) => void;
  notify: (message: string) => void;
}

/** What the edges the user is signed in to let them reach: connect or save with one click. */
export function BrowseView({ client, sessions, resources, statuses, onToggle, onAdded, onError }: Props) {
  const signedIn = sessions.filter((session) => session.signedIn);
  const title = (
    <h1 id="view-title" className="view-title">
      Browse
    </h1>
  );
  if (signedIn.length === 0) {
    return (
      <section className="view" aria-labelledby="view-title">
        {title}
        <div className="empty">
          <h2>Nothing to browse yet</h2>
          <p>
            Sign in to your organisation’s edge and the applications it lets you reach are listed here, ready to
            connect.
          </p>
          <SignInToEdge client={client} onError={onError} waiting={sessions.some((session) => session.signingIn)} />
        </div>
      </section>
    );
  }
  return (
    <section className="view" aria-labelledby="view-title">
      {title}
      {signedIn.map((session) => (
        <EdgeApps
          key={`${session.edge}|${session.expiresAt ?? ''}`}
          client={client}
          session={session}
          resources={resources}
          statuses={statuses}
          onToggle={onToggle}
          onAdded={onAdded}
          onError={onError}
        />
      ))}
    </section>
  );
}

/** The edge's sign-in address (what an administrator hands out), then the system browser. */
function SignInToEdge({
  client,
  onError,
  waiting: browserWaiting,
}: {
  client: Client;
  onError: (error: unknown) => void;
  waiting: boolean;
}) {
  const [address, setAddress] = useState('');
  const [started, setStarted] = useState(false);
  // The one thing to type on a first run: the address has the focus, so typing and Enter are enough.
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => field.current?.focus(), []);
  const waiting = started || browserWaiting;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const edge = /^https:\/\//.test(address.trim()) ? address.trim() : `https://${address.trim()}`;
    setStarted(true);
    client.api
      .signIn({ edge })
      .catch(onError)
      .finally(() => setStarted(false));
  };
  return (
    <form className="sign-in-edge" onSubmit={submit}>
      <label htmlFor="edge-address">Edge sign-in address</label>
      <input
        id="edge-address"
        ref={field}
        type="text"
        inputMode="url"
        placeholder="https://auth.example.com"
        value={address}
        onChange={(event) => setAddress(event.target.value)}
        required
      />
      <button className="button primary" type="submit" disabled={waiting || !address.trim()}>
        {waiting ? 'Waiting for the browser…' : 'Sign in'}
      </button>
      {waiting ? (
        <p className="field-hint full">
          Finish signing in in your browser. The bar above can open the page again, copy its link or cancel.
        </p>
      ) : null}
    </form>
  );
}

function EdgeApps({
  client,
  session,
  resources,
  statuses,
  onToggle,
  onAdded,
  onError,
}: { client: Client; session: EdgeSession } & Pick<
  Props,
  'onAdded' | 'onError' | 'resources' | 'statuses' | 'onToggle'
>) {
  const [discovery, setDiscovery] = useState<Discovery | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const [query, setQuery] = useState('');
  const host = edgeHost(session.edge);

  // Listed again whenever the session renews (the key above changes with its expiry).
  const load = useCallback(() => {
    client.api.discover({ edge: session.edge }).then(
      (found) => (setDiscovery(found), setProblem(undefined)),
      (error: unknown) => setProblem(error instanceof Error ? error.message : String(error)),
    );
  }, [client, session.edge]);
  useEffect(load, [load]);

  const visible = useMemo(() => {
    const words = query.trim().toLowerCase();
    return (discovery?.apps ?? []).filter(
      (app) => !words || `${app.hostname} ${app.name ?? ''} ${app.kind ?? ''}`.toLowerCase().includes(words),
    );
  }, [discovery, query]);

  const add = async (app: Discovery['apps'][number], connect: boolean) => {
    try {
      const resource = await client.api.addDiscovered({ edge: session.edge, hostname: app.hostname, connect });
      onAdded(connect ? `${resource.name} is on 127.0.0.1:${resource.localPort}` : `Saved ${resource.name}`);
      load();
    } catch (error) {
      onError(error);
    }
  };

  return (
    <div className="browse-edge" aria-label={`Applications on ${host}`}>
      <div className="toolbar">
        <h2 className="browse-title">{host}</h2>
        <div className="search">
          <input
            type="search"
            placeholder="Search applications"
            aria-label={`Search applications on ${host}`}
            value={query}
            onChange={(event) => setQuery(event.target.value)}
          />
        </div>
        <button className="button" onClick={load}>
          Refresh
        </button>
      </div>
      {problem ? (
        <p className="no-match" role="alert">
          {problem}
        </p>
      ) : null}
      {discovery && discovery.apps.length === 0 ? (
        <p className="no-match">This edge lets you reach no application.</p>
      ) : null}
      <ul className="resources" aria-label={`Applications on ${host}`}>
        {visible.map((app) => (
          <li key={app.hostname} className="resource browse-app">
            <div className="resource-main">
              <div className="resource-title">
                <span className="resource-name">{app.name ?? app.hostname}</span>
                {app.kind ? <span className="tag">{app.kind}</span> : null}
              </div>
              <div className="resource-sub">
                <span className="hostname">{app.hostname}</span>
                {app.description ? <span className="muted"> — {app.description}</span> : null}
              </div>
            </div>
            <div className="resource-actions">
              {app.savedAs && resources.some((resource) => resource.id === app.savedAs) ? (
                <SavedApp
                  resource={resources.find((resource) => resource.id === app.savedAs)!}
                  status={statuses.get(app.savedAs)}
                  onToggle={onToggle}
                />
              ) : app.savedAs ? (
                <span className="muted">Saved · 127.0.0.1:{app.port}</span>
              ) : (
                <>
                  <button
                    className="button primary"
                    onClick={() => void add(app, true)}
                    aria-label={`Connect ${app.hostname}`}
                  >
                    Connect
                  </button>
                  <button className="button" onClick={() => void add(app, false)} aria-label={`Save ${app.hostname}`}>
                    Save
                  </button>
                </>
              )}
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** An app already saved: its live state and switch, as on the Resources view. */
function SavedApp({
  resource,
  status,
  onToggle,
}: {
  resource: Resource;
  status: ResourceStatus | undefined;
  onToggle: (resource: Resource) => void;
}) {
  const on = isOn(status);
  const state = status?.state ?? 'off';
  return (
    <span className={`saved-app state-${state}`} data-testid="saved-app">
      <span className={`dot dot-${state}`} aria-hidden="true" />
      <span className="state" data-testid="state">
        {stateLabel(status)}
      </span>
      <span className="address" data-testid="local-address">
        {status?.localAddress ?? `${resource.localHost}:${resource.localPort}`}
      </span>
      <button
        className={toggleClasses(status)}
        role="switch"
        aria-checked={on}
        aria-label={`${on ? 'Disconnect' : 'Connect'} ${resource.name}`}
        onClick={() => onToggle(resource)}
      >
        <span className="knob" />
      </button>
    </span>
  );
}
