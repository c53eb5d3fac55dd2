// The edge process: one HTTPS/WSS server carrying client tunnels, connector connections, health,
// metrics and (with SSO) the /cdn-cgi/access endpoints.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { DEFAULTS, PATH } from '../shared/constants.js';
import { AirlockError } from '../shared/errors.js';
import { formatHostPort } from '../shared/host.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { openAuditLog } from './audit-log.js';
import { createAccessRoutes, type AccessApp, type Handoff, type PendingLogin } from './access-routes.js';
import { verifyAppToken } from './app-token.js';
import { evaluatePolicy } from './policy.js';
import { RevocationList, type Revocations } from './revocation-list.js';
import { LoginCodes } from './login-codes.js';
import { openPostgresState, type PostgresState } from './state/postgres.js';
import { PostgresOneTimeStore, PostgresRevocations, shareSigningKeys, SharedFailureThrottle } from './state/postgres-stores.js';
import { openSharedRouteStore } from './state/postgres-routes.js';
import { SigningKeys } from './signing-keys.js';
import { signStreamAssertion } from './stream-signer.js';
import { cidrMatcher, normaliseAddress } from './cidr.js';
import type { AppConfig, EdgeConfig } from './config.js';
import { createAppGateway, gate } from './app-gateway.js';
import { createEdgeMetrics } from './metrics.js';
import { FailureThrottle } from './failure-throttle.js';
import { sendJson, writeRawResponse } from './json-answer.js';
import { handleTunnelUpgrade } from './tunnel-endpoint.js';
import { TunnelRegistry } from './tunnel-registry.js';
import { dialRelay, RELAY, signRelayAssertion, TunnelDirectory, verifyRelayAssertion } from './edge-relay.js';
import type { Principal } from './identity.js';
import type { WebSocket } from 'ws';
import { openOperatorRoutes } from './operator-routes.js';
import { createAppDirectory } from './app-directory.js';

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
  // Several edges share one PostgreSQL: what a sign-in or a sign-out leaves must be seen by all.
  const shared = config.state ? await openPostgresState(config.state.postgres.url, { source: `${config.source}: state.postgres.url`, log }) : undefined;
  const revoked: Revocations = shared ? await PostgresRevocations.open(shared, log) : await RevocationList.open(join(config.stateDir, 'revoked-sessions.json'));
  const stopKeySharing = shared ? await shareSigningKeys(shared, keys, edgeId, log) : () => undefined;
  const relayCa = config.relay?.ca ? readRelayCa(config) : undefined;
  const issuer = () => new URL(config.publicUrl).origin;
  const registry = new TunnelRegistry();
  const metrics = createEdgeMetrics();
  const audit = openAuditLog(config.auditFile);
  const sharedRoutes = shared ? await openSharedRouteStore(shared, log) : undefined;
  const operators = await openOperatorRoutes(config, { keys, revoked, registry, audit }, sharedRoutes?.store);
  const failureLimit = { limit: DEFAULTS.serviceTokenFailuresPerMinute, windowMs: 60_000 };
  const serviceTokenFailures = shared ? new SharedFailureThrottle(shared, failureLimit) : new FailureThrottle(failureLimit);
  const deps = {
    config: operators.config,
    registry,
    audit,
    metrics,
    log,
    serviceTokenFailures,
    verifyAppToken: (token: string, app: AppConfig) => verifyAppToken(token, { issuer: issuer(), aud: app.aud, keys, revoked }),
    signAssertion: (claims: Parameters<typeof signStreamAssertion>[2]) => signStreamAssertion(keys, issuer(), claims),
    ...(shared && config.relay ? { relay: { dial: (app: AppConfig, principal: Principal, streamId: string) => relayToPeer(app, principal, streamId) } } : {}),
  };
  let directory: TunnelDirectory | undefined;
  /** Tries the live edges that hold the tunnel, in random order; undefined when none answers. */
  async function relayToPeer(app: AppConfig, principal: Principal, streamId: string): Promise<WebSocket | undefined> {
    const peers = (await directory?.peersFor(app.tunnel)) ?? [];
    const assertion = signRelayAssertion(keys, issuer(), { tun: app.tunnel, host: app.hostname, svc: app.serviceAuthority, sid: streamId, principal });
    for (const peer of peers) {
      try {
        return await dialRelay(peer, assertion, relayCa);
      } catch (error) {
        log.warn({ peer, error: (error as Error).message }, 'relay to another edge failed; trying the next');
      }
    }
    return undefined;
  }
  let accessRoutes: ReturnType<typeof createAccessRoutes> | undefined;
  const listApps = createAppDirectory({ config: deps.config, issuer, keys, revoked, audit, serviceTokenFailures });
  const gateway = createAppGateway(deps);
  const metricsAllowed = cidrMatcher(config.metricsAllow);
  const sockets = new Set<Socket>();
  const perIp = new Map<string, number>();

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

  // A per-address cap on open connections keeps one client from exhausting the edge. Counted at TCP
  // accept, so connections that never finish the TLS handshake count as well.
  server.on('connection', (socket: Socket) => {
    const ip = normaliseAddress(socket.remoteAddress ?? '');
    const open = (perIp.get(ip) ?? 0) + 1;
    if (open > config.maxConnectionsPerIp) {
      log.warn({ ip, open }, 'per-address connection limit reached');
      socket.destroy();
      return;
    }
    perIp.set(ip, open);
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left <= 0) perIp.delete(ip);
      else perIp.set(ip, left);
    });
  });
  server.on('tlsClientError', (error) => log.debug({ error: error.message }, 'TLS handshake failed'));

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handleRequest(req, res).catch((error: Error) => {
      log.error({ error: error.message }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'internal error' });
      else res.destroy();
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const path = (req.url ?? '/').split('?')[0];
    if (path !== PATH.tunnel && operators.refuseUpgrade(req, socket)) return;
    const work = path === PATH.tunnel ? Promise.resolve(handleTunnelUpgrade(req, socket, deps)) : gateway.handleUpgrade(req, socket, head);
    work.catch((error: Error) => {
      log.error({ error: error.message }, 'upgrade failed');
      writeRawResponse(socket, 500, {}, { error: 'internal', message: 'internal error' });
    });
  });

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === PATH.health) {
      // Degraded, not down: without the store the edge still serves streams and tokens it can verify.
      const store = shared ? { kind: 'postgres', reachable: await shared.healthy(), schemaVersion: shared.schemaVersion } : { kind: 'local' };
      return sendJson(res, 200, { status: store.reachable === false ? 'degraded' : 'ok', connectorConnections: registry.count(), store });
    }
    if (path === PATH.metrics) {
      if (!metricsAllowed(req.socket.remoteAddress ?? '')) return sendJson(res, 403, { error: 'access_denied', message: 'metrics are not served to this address' });
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    if (path === PATH.certs && !accessRoutes) {
      return sendJson(res, 200, keys.jwks());
    }
    if (path === PATH.apps && req.method === 'GET') return listApps(req, res);
    if (await operators.handleRequest(req, res)) return;
    if (path.startsWith(PATH.accessPrefix)) {
      if (accessRoutes && (await accessRoutes(req, res))) return;
      // 501 tells a client not to open a browser: there is nothing to sign in to (service tokens only).
      return sendJson(res, 501, { error: 'sso_disabled', message: 'single sign-on is not configured on this edge; use a service token' });
    }
    const result = await gate(req, deps, randomUUID());
    if (result.status !== 200) {
      if (result.body) return sendJson(res, result.status, result.body, result.headers);
      res.writeHead(result.status, result.headers).end();
      return;
    }
    if (req.method === 'HEAD') {
      res.writeHead(200).end();
      return;
    }
    sendJson(res, 426, {
      error: 'upgrade_required',
      message: `${result.app.hostname} carries TCP: connect with \`airlock access tcp --hostname ${result.app.hostname} --url 127.0.0.1:PORT\``,
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new AirlockError('PORT_IN_USE', `the edge cannot listen on ${formatHostPort(config.listen)}: the port is already in use`)
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
  if (config.idp) {
    accessRoutes = createAccessRoutes({
      publicUrl: config.publicUrl,
      findAppByAud: (aud) => operators.loginApp(aud) ?? accessApp([...deps.config().apps.values()].find((app) => app.aud === aud)),
      findAppByHostname: (hostname) => accessApp(deps.config().apps.get(hostname)),
      tokens: { keys, revoked },
      idp: config.idp,
      organisationSessionMs: config.organisationSessionMs,
      ...(shared ? sharedSignInStores(shared) : {}),
      log,
    });
  }
  const relayServer = shared && config.relay ? await startRelayListener(config, tls, log, (req, socket, head) => {
    let claims;
    try {
      claims = verifyRelayAssertion(req.headers[RELAY.header], keys, issuer());
    } catch (error) {
      log.warn({ ip: req.socket.remoteAddress, reason: (error as Error).message }, 'relay refused');
      return writeRawResponse(socket, 403, {}, { error: 'access_denied', message: (error as Error).message });
    }
    // The relaying edge names the app; this edge's own configuration must agree on where it goes.
    const app = deps.config().apps.get(claims.host);
    if (!app || app.tunnel !== claims.tun || app.serviceAuthority !== claims.svc) {
      return writeRawResponse(socket, 403, {}, { error: 'access_denied', message: 'relay refused: the app does not match this edge' });
    }
    gateway.handleRelayedUpgrade(req, socket, head, app, claims.principal, claims.sid).catch((error: Error) => {
      log.error({ error: error.message }, 'relayed upgrade failed');
      writeRawResponse(socket, 500, {}, { error: 'internal', message: 'internal error' });
    });
  }) : undefined;
  if (shared && relayServer) {
    const relayUrl = config.relay!.url ?? `https://${formatHostPort({ host: relayServer.address, port: relayServer.port })}`;
    directory = new TunnelDirectory(shared, edgeId, relayUrl, registry, log);
  }
  log.info({ listen: formatHostPort({ host: bound.address, port: bound.port }), apps: config.apps.size }, 'edge listening');

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
      const deadline = Date.now() + drainMs;
      while (Date.now() < deadline && registry.all().some((connection) => connection.streams > 0)) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      for (const connection of registry.all()) connection.session.destroy();
      for (const socket of sockets) socket.destroy();
      gateway.close();
      relayServer?.close();
      await directory?.close();
      stopKeySharing();
      sharedRoutes?.close();
      if (revoked instanceof PostgresRevocations) revoked.close();
      await shared?.close();
      await audit.close();
    },
  };
}

/** The internal listener for streams other edges relay here: upgrades only, each checked by `onUpgrade`. */
async function startRelayListener(
  config: EdgeConfig,
  tls: { cert: Buffer; key: Buffer },
  log: Logger,
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Promise<{ address: string; port: number; close(): void }> {
  const server = https.createServer({ ...tls, minVersion: 'TLSv1.2', maxHeaderSize: DEFAULTS.maxHeaderBytes, headersTimeout: config.handshakeTimeoutMs });
  const sockets = new Set<Duplex>();
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => sendJson(res, 404, { error: 'app_not_found', message: 'this is an edge-to-edge relay listener' }));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    onUpgrade(req, socket, head);
  });
  server.on('tlsClientError', (error) => log.debug({ error: error.message }, 'relay TLS handshake failed'));
  const { listen } = config.relay!;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new AirlockError('PORT_IN_USE', `the edge cannot listen for relays on ${formatHostPort(listen)}: the port is already in use`) : error),
    );
    server.listen(listen.port, listen.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: bound.address,
    port: bound.port,
    close() {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

function readRelayCa(config: EdgeConfig): Buffer {
  try {
    return readFileSync(config.relay!.ca!);
  } catch (error) {
    throw new AirlockError('CONFIG_UNREADABLE', `${config.source}: cannot read relay.ca ${config.relay!.ca}: ${(error as Error).message}`);
  }
}

/** Sign-in state that must be taken exactly once whichever edge the browser or client comes back to. */
function sharedSignInStores(shared: PostgresState) {
  return {
    stateStore: new PostgresOneTimeStore<PendingLogin>(shared, 'login-state'),
    loginCodes: new LoginCodes({ store: new PostgresOneTimeStore(shared, 'login-code'), used: new PostgresOneTimeStore(shared, 'used-code') }),
    handoffs: new PostgresOneTimeStore<Handoff>(shared, 'handoff'),
  };
}

function accessApp(app: AppConfig | undefined): AccessApp | undefined {
  if (!app) return undefined;
  return {
    hostname: app.hostname,
    aud: app.aud,
    sessionMs: app.sessionMs,
    evaluate: (principal, { ip }) => evaluatePolicy(app.policy, { principal, ip }),
  };
}

function readTlsFiles(config: EdgeConfig): { cert: Buffer; key: Buffer } {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new AirlockError('CONFIG_UNREADABLE', `${config.source}: cannot read tls.${what} ${file}: ${(error as Error).message}`);
    }
  };
  return { cert: read(config.tls.cert, 'cert'), key: read(config.tls.key, 'key') };
}
