// The edge process: one HTTPS/WSS server carrying client tunnels, connector connections, health,
// metrics and (with SSO) the /cdn-cgi/access endpoints. startEdge composes the parts; which part
// answers a request is edge-router.ts.
import { readFileSync } from 'node:fs';
import { readSecretFileText } from '../shared/secret-file.js';
import { join } from 'node:path';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { DEFAULTS } from '../shared/constants.js';
import { AirlockError } from '../shared/errors.js';
import { formatHostPort } from '../shared/host.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { openAuditLog } from './observability/audit-log.js';
import { watchClockSkew } from './observability/clock-skew.js';
import {
  createAccessRoutes,
  type AccessApp,
  type AccessRoutes,
  type Handoff,
  type PendingLogin,
} from './sign-in/access-routes.js';
import { createAppDirectory } from './gateway/app-directory.js';
import { createAppGateway, type GatewayDeps } from './gateway/app-gateway.js';
import { verifyAppToken } from './tokens/app-token.js';
import type { AppConfig, EdgeConfig } from './config/config.js';
import { capConnectionsPerAddress } from './http/connection-cap.js';
import { readProxyHeaders } from './http/proxy-protocol.js';
import { createRelayDialer, TunnelDirectory } from './relay/edge-relay.js';
import { createEdgeRouter } from './edge-router.js';
import { FailureThrottle } from './gateway/failure-throttle.js';
import { LoginCodes } from './sign-in/login-codes.js';
import { createEdgeMetrics } from './observability/metrics.js';
import { openOperatorRoutes, type OperatorRoutes } from './admin/operator-routes.js';
import { evaluatePolicy } from './gateway/policy.js';
import { OpenStreams } from './gateway/open-streams.js';
import { SessionRenewals } from './gateway/session-renewals.js';
import { endStreamsWhenAccessEnds } from './gateway/access-ends.js';
import { startRelayListener } from './relay/relay-listener.js';
import { RevocationList, type Revocations } from './tokens/revocation-list.js';
import { LockList, type Locks } from './tokens/lock-list.js';
import { PostgresLocks } from './state/postgres-locks.js';
import { SigningKeys } from './tokens/signing-keys.js';
import { openPostgresState, type PostgresState } from './state/postgres.js';
import { openSharedRouteStore } from './state/postgres-routes.js';
import { ConfigAgreement } from './state/config-agreement.js';
import { configFingerprint } from './config/config-fingerprint.js';
import {
  PostgresOneTimeStore,
  PostgresRevocations,
  shareSessionRenewals,
  shareSigningKeys,
  SharedFailureThrottle,
} from './state/postgres-stores.js';
import { createStatusEndpoints } from './status-endpoints.js';
import { signStreamAssertion } from './tokens/stream-signer.js';
import { TunnelRegistry } from './tunnels/tunnel-registry.js';

export interface EdgeOptions {
  config: EdgeConfig;
  log?: Logger;
}

export interface RunningEdge {
  /** host:port actually bound (useful with port 0). */
  address: string;
  port: number;
  registry: TunnelRegistry;
  keys: SigningKeys;
  revoked: Revocations;
  /** This process among several edges (its signing keys are published under it). */
  edgeId: string;
  /** Stops accepting, lets streams finish for up to drainMs, then closes everything. */
  close(drainMs?: number): Promise<void>;
}

export async function startEdge({ config, log = silentLogger() }: EdgeOptions): Promise<RunningEdge> {
  const tls = readTlsFiles(config);
  // Keys and revocations live in the state dir so tokens stay valid across restarts.
  const keys = await SigningKeys.open(join(config.stateDir, 'keys'));
  const edgeId = randomUUID();
  const startedAt = Date.now();
  // Several edges share one PostgreSQL: what a sign-in or a sign-out leaves must be seen by all.
  const shared = config.state
    ? await openPostgresState(config.state.postgres.url, { source: `${config.source}: state.postgres.url`, log })
    : undefined;
  const revoked: Revocations = shared
    ? await PostgresRevocations.open(shared, log)
    : await RevocationList.open(join(config.stateDir, 'revoked-sessions.json'));
  const locks: Locks = shared
    ? await PostgresLocks.open(shared, log)
    : await LockList.open(join(config.stateDir, 'locked-identities.json'));
  const stopKeySharing = shared ? await shareSigningKeys(shared, keys, edgeId, log) : () => undefined;
  const configAgreement = shared ? new ConfigAgreement(shared, edgeId, configFingerprint(config), log) : undefined;
  await configAgreement?.compare();
  const relayCa = config.relay?.ca ? readRelayCa(config) : undefined;
  const issuer = () => new URL(config.publicUrl).origin;
  const registry = new TunnelRegistry();
  const metrics = createEdgeMetrics();
  metrics.auditWritable.set(1);
  const audit = openAuditLog(config.auditFile, {
    onChange: (health) => {
      metrics.auditWritable.set(health.writable ? 1 : 0);
      if (health.writable) log.info({ file: config.auditFile }, 'audit log writable again');
      else
        log.error(
          { file: config.auditFile, error: health.error, onFailure: config.auditOnFailure },
          config.auditOnFailure === 'refuse'
            ? 'audit log cannot be written: refusing new streams until it can'
            : 'audit log cannot be written: buffering records and serving on',
        );
    },
    onDrop: () => metrics.auditDroppedRecords.inc(),
  });
  const sharedRoutes = shared ? await openSharedRouteStore(shared, log) : undefined;
  const clockSkew = shared
    ? watchClockSkew(
        async () =>
          Number(
            (await shared.pool.query<{ ms: string }>('SELECT extract(epoch FROM clock_timestamp()) * 1000 AS ms'))
              .rows[0]!.ms,
          ),
        { log, onMeasured: (skewMs) => metrics.clockSkew.set(skewMs / 1000) },
      )
    : undefined;
  const operators = await openOperatorRoutes(config, { keys, revoked, locks, registry, audit }, sharedRoutes?.store);
  const failureLimit = { limit: DEFAULTS.serviceTokenFailuresPerMinute, windowMs: 60_000 };
  const serviceTokenFailures = shared
    ? new SharedFailureThrottle(shared, failureLimit)
    : new FailureThrottle(failureLimit);
  // A session revoked or an identity locked at any edge ends its streams open here.
  const openStreams = new OpenStreams();
  endStreamsWhenAccessEnds(openStreams, { revoked, locks, log });
  // A re-sign-in at any edge carries the identity's streams over at every edge.
  const renewals: SessionRenewals = new SessionRenewals(
    openStreams,
    shared ? shareSessionRenewals(shared, (renewal) => renewals.apply(renewal)) : undefined,
    log,
  );
  // Which edge holds which tunnel; known once the relay listener is bound (several edges only).
  let directory: TunnelDirectory | undefined;
  const deps: GatewayDeps = {
    config: operators.config,
    registry,
    openStreams,
    renewals,
    locks,
    audit,
    refuseUnaudited: config.auditOnFailure === 'refuse',
    metrics,
    log,
    serviceTokenFailures,
    verifyAppToken: (token, app) => verifyAppToken(token, { issuer: issuer(), aud: app.aud, keys, revoked }),
    signAssertion: (claims) => signStreamAssertion(keys, issuer(), claims),
    edgeId,
    // A restarted edge: its connectors redial it within their longest backoff step.
    connectorMayReturn: ({ tunnel, connectorId }, withinMs) =>
      (Date.now() - startedAt < DEFAULTS.backoffMaxMs && !registry.hasSeen(connectorId)) ||
      (directory?.heldBySilentEdge(tunnel, withinMs) ?? false),
    ...(shared && config.relay
      ? {
          relay: {
            dial: createRelayDialer({
              peersFor: async (tunnel) => (await directory?.peersFor(tunnel)) ?? [],
              keys,
              issuer,
              ca: relayCa,
              log,
            }),
          },
        }
      : {}),
  };
  const gateway = createAppGateway(deps);
  let accessRoutes: AccessRoutes | undefined;
  const router = createEdgeRouter({
    deps,
    gateway,
    operators,
    status: createStatusEndpoints({
      registry,
      metrics,
      metricsAllow: config.metricsAllow,
      shared,
      audit,
      clockSkew,
      ...(configAgreement ? { configAgreement } : {}),
    }),
    listApps: createAppDirectory({ config: deps.config, issuer, keys, revoked, audit, serviceTokenFailures }),
    keys,
    accessRoutes: () => accessRoutes,
    log,
  });

  const server = https.createServer({
    ...tls,
    minVersion: 'TLSv1.2',
    maxHeaderSize: DEFAULTS.maxHeaderBytes,
    headersTimeout: config.handshakeTimeoutMs,
    requestTimeout: config.handshakeTimeoutMs * 3,
    // The TLS handshake gets the same bound: a peer that never sends a ClientHello is dropped too.
    handshakeTimeout: config.handshakeTimeoutMs,
    // Node checks headersTimeout only this often (default 30 s), which would stretch the bound.
    connectionsCheckingInterval: Math.min(1000, config.handshakeTimeoutMs),
  });
  const sockets = capConnectionsPerAddress(server, config.maxConnectionsPerIp, log);
  // Last of the 'connection' listeners: it runs before them all (TLS, the cap) on a balancer's connections.
  if (config.trustedProxies.length > 0)
    readProxyHeaders(server, { trustedProxies: config.trustedProxies, timeoutMs: config.handshakeTimeoutMs, log });
  server.on('tlsClientError', (error) => log.debug({ error: error.message }, 'TLS handshake failed'));
  server.on('request', router.request);
  server.on('upgrade', router.upgrade);

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new AirlockError(
              'PORT_IN_USE',
              `the edge cannot listen on ${formatHostPort(config.listen)}: the port is already in use`,
            )
          : error,
      ),
    );
    server.listen(config.listen.port, config.listen.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  if (config.publicUrlFromListen) {
    const url = new URL(config.publicUrl);
    url.port = String(bound.port);
    config.publicUrl = url.origin;
  }
  // Made once the public URL is final: it may name the port just bound.
  if (config.idp)
    accessRoutes = createSignInRoutes(config, config.idp, { operators, keys, revoked, locks, renewals, shared }, log);
  const relayServer =
    shared && config.relay
      ? await startRelayListener(config, config.relay.tls ? readTlsFiles(config, config.relay.tls, 'relay.tls') : tls, {
          config: deps.config,
          keys,
          issuer,
          gateway,
          log,
        })
      : undefined;
  if (shared && relayServer) {
    const relayUrl =
      config.relay!.url ?? `https://${formatHostPort({ host: relayServer.address, port: relayServer.port })}`;
    directory = new TunnelDirectory(shared, edgeId, relayUrl, registry, log);
  }
  log.info(
    { listen: formatHostPort({ host: bound.address, port: bound.port }), apps: config.apps.size, edgeId },
    'edge listening',
  );

  return {
    address: formatHostPort({ host: bound.address, port: bound.port }),
    port: bound.port,
    registry,
    keys,
    revoked,
    edgeId,
    async close(drainMs = DEFAULTS.drainTimeoutMs) {
      server.close();
      server.closeIdleConnections();
      gateway.handOff(); // resumable streams resume through another edge rather than wait
      await registry.drain(drainMs);
      for (const socket of sockets) socket.destroy();
      gateway.close();
      openStreams.close();
      relayServer?.close();
      await directory?.close();
      await configAgreement?.close();
      stopKeySharing();
      clockSkew?.stop();
      sharedRoutes?.close();
      if (revoked instanceof PostgresRevocations) revoked.close();
      if (locks instanceof PostgresLocks) locks.close();
      await shared?.close();
      await audit.close();
    },
  };
}

function readRelayCa(config: EdgeConfig): Buffer {
  try {
    return readFileSync(config.relay!.ca!);
  } catch (error) {
    throw new AirlockError(
      'CONFIG_UNREADABLE',
      `${config.source}: cannot read relay.ca ${config.relay!.ca}: ${(error as Error).message}`,
    );
  }
}

/** The sign-in endpoints (docs/sso.md) for the working config's apps and the operators' sign-in. */
function createSignInRoutes(
  config: EdgeConfig,
  idp: NonNullable<EdgeConfig['idp']>,
  parts: {
    operators: OperatorRoutes;
    keys: SigningKeys;
    revoked: Revocations;
    locks: Locks;
    renewals: SessionRenewals;
    shared?: PostgresState;
  },
  log: Logger,
): AccessRoutes {
  const { operators, keys, revoked, locks, renewals, shared } = parts;
  const appOf = (pick: (app: AppConfig) => boolean) =>
    accessApp([...operators.config().apps.values()].find(pick), locks);
  return createAccessRoutes({
    publicUrl: config.publicUrl,
    findAppByAud: (aud) => operators.loginApp(aud) ?? appOf((app) => app.aud === aud),
    findAppByHostname: (hostname) => accessApp(operators.config().apps.get(hostname), locks),
    tokens: { keys, revoked },
    idp,
    organisationSessionMs: config.organisationSessionMs,
    // A sign-in in time carries the user's open streams to the app over (a later expiry).
    onAppTokenIssued: ({ hostname, email, sessionId, expiresAt }) =>
      renewals.seen({ who: email, app: hostname, sessionId, expiresAt: expiresAt.getTime() }),
    ...(shared ? sharedSignInStores(shared) : {}),
    log,
  });
}

/** Sign-in state that must be taken exactly once whichever edge the browser or client comes back to. */
function sharedSignInStores(shared: PostgresState) {
  return {
    stateStore: new PostgresOneTimeStore<PendingLogin>(shared, 'login-state'),
    loginCodes: new LoginCodes({
      store: new PostgresOneTimeStore(shared, 'login-code'),
      used: new PostgresOneTimeStore(shared, 'used-code'),
    }),
    handoffs: new PostgresOneTimeStore<Handoff>(shared, 'handoff'),
  };
}

/** An app as sign-in sees it: a locked identity is refused before its policy is asked. */
function accessApp(app: AppConfig | undefined, locks: Locks): AccessApp | undefined {
  if (!app) return undefined;
  return {
    hostname: app.hostname,
    aud: app.aud,
    sessionMs: app.sessionMs,
    evaluate: (principal, { ip }) =>
      locks.lockedFor(principal.email)
        ? { allowed: false, reason: 'locked by an administrator' }
        : evaluatePolicy(app.policy, { principal, ip }),
  };
}

function readTlsFiles(
  config: EdgeConfig,
  files: { cert: string; key: string } = config.tls,
  where = 'tls',
): { cert: Buffer; key: Buffer } {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new AirlockError(
        'CONFIG_UNREADABLE',
        `${config.source}: cannot read ${where}.${what} ${file}: ${(error as Error).message}`,
      );
    }
  };
  // The private key is a secret file; the certificate is public.
  return {
    cert: read(files.cert, 'cert'),
    key: Buffer.from(readSecretFileText(files.key, `${config.source}: ${where}.key`)),
  };
}
