import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { edgeHost, type Discovery, type EdgeSession } from '../shared/contract/api.js';
import type { Client } from './api-client.js';

interface Props {
  client: Client;
  /** Signed-in edges: one list each. */
  sessions: EdgeSession[];
  onAdded: (message: string) => void;
  onError: (error: unknown) => void;
}

/** What the edges the user is signed in to let them reach: connect or save with one click. */
export function BrowseView({ client, sessions, onAdded, onError }: Props) {
  const signedIn = sessions.filter((session) => session.signedIn);
  if (signedIn.length === 0) {
    return (
      <section className="view">
        <div className="empty">
          <h2>Nothing to browse yet</h2>
          <p>
            Sign in to your organisation’s edge and the applications it lets you reach are listed here, ready to
            connect.
          </p>
          <SignInToEdge client={client} onError={onError} />
        </div>
      </section>
    );
  }
  return (
    <section className="view">
      {signedIn.map((session) => (
        <EdgeApps
          key={`${session.edge}|${session.expiresAt ?? ''}`}
          client={client}
          session={session}
          onAdded={onAdded}
          onError={onError}
        />
      ))}
    </section>
  );
}

/** The edge's sign-in address (what an administrator hands out), then the system browser. */
function SignInToEdge({ client, onError }: { client: Client; onError: (error: unknown) => void }) {
  const [address, setAddress] = useState('');
  const [waiting, setWaiting] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const edge = /^https:\/\//.test(address.trim()) ? address.trim() : `https://${address.trim()}`;
    setWaiting(true);
    client.api
      .signIn({ edge })
      .catch(onError)
      .finally(() => setWaiting(false));
  };
  return (
    <form className="sign-in-edge" onSubmit={submit}>
      <label htmlFor="edge-address">Edge sign-in address</label>
      <input
        id="edge-address"
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
    </form>
  );
}

function EdgeApps({
  client,
  session,
  onAdded,
  onError,
}: { client: Client; session: EdgeSession } & Pick<Props, 'onAdded' | 'onError'>) {
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
              {app.savedAs ? (
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
