// The internal listener for streams other edges of this deployment relay here (docs/scale.md):
// upgrades only, each carrying a relay assertion from an edge of this deployment for an app this
// edge routes the same way. The relaying edge already applied the app's policy.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { DEFAULTS } from '../../shared/constants.js';
import { AirlockError } from '../../shared/errors.js';
import { formatHostPort } from '../../shared/host.js';
import type { Logger } from '../../shared/logger.js';
import type { AppGateway } from '../gateway/app-gateway.js';
import type { EdgeConfig } from '../config/config.js';
import { RELAY, verifyRelayAssertion } from './edge-relay.js';
import { SeenAssertions } from './seen-assertions.js';
import { sendJson, writeRawResponse } from '../http/json-answer.js';
import type { SigningKeys } from '../tokens/signing-keys.js';

export interface RelayListener {
  address: string;
  port: number;
  close(): void;
}

export interface RelayedStreamDeps {
  /** The working config: the relayed app must route here as the relaying edge said. */
  config: () => EdgeConfig;
  keys: SigningKeys;
  issuer: () => string;
  gateway: Pick<AppGateway, 'handleRelayedUpgrade'>;
  log: Logger;
}

/** Listens on edge.yaml's `relay.listen`; refuses plain requests, hands each checked upgrade to the gateway. */
export async function startRelayListener(
  config: EdgeConfig,
  tls: { cert: Buffer; key: Buffer },
  deps: RelayedStreamDeps,
): Promise<RelayListener> {
  const { log } = deps;
  const server = https.createServer({
    ...tls,
    minVersion: 'TLSv1.2',
    maxHeaderSize: DEFAULTS.maxHeaderBytes,
    headersTimeout: config.handshakeTimeoutMs,
  });
  const sockets = new Set<Duplex>();
  const seen = new SeenAssertions();
  server.on('request', (_req: IncomingMessage, res: ServerResponse) =>
    sendJson(res, 404, { error: 'app_not_found', message: 'this is an edge-to-edge relay listener' }),
  );
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    acceptRelayedStream(req, socket, head, deps, seen);
  });
  server.on('tlsClientError', (error) => log.debug({ error: error.message }, 'relay TLS handshake failed'));
  const { listen } = config.relay!;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new AirlockError(
              'PORT_IN_USE',
              `the edge cannot listen for relays on ${formatHostPort(listen)}: the port is already in use`,
            )
          : error,
      ),
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

function acceptRelayedStream(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  { config, keys, issuer, gateway, log }: RelayedStreamDeps,
  seen: SeenAssertions,
): void {
  let claims;
  try {
    claims = verifyRelayAssertion(req.headers[RELAY.header], keys, issuer());
    // Single use: jti names the assertion (a resumed stream is relayed again with its stream id).
    const use = seen.claim(claims.jti ?? claims.sid, claims.exp * 1000);
    if (use === 'replayed') throw new Error('relay refused: this assertion was already used');
    if (use === 'full') throw new Error('relay refused: too many relayed streams in the last 30 s');
  } catch (error) {
    log.warn({ ip: req.socket.remoteAddress, reason: (error as Error).message }, 'relay refused');
    return writeRawResponse(socket, 403, {}, { error: 'access_denied', message: (error as Error).message });
  }
  // The relaying edge names the app; this edge's own configuration must agree on where it goes.
  const app = config().apps.get(claims.host);
  if (!app || app.tunnel !== claims.tun || app.serviceAuthority !== claims.svc) {
    return writeRawResponse(
      socket,
      403,
      {},
      { error: 'access_denied', message: 'relay refused: the app does not match this edge' },
    );
  }
  gateway.handleRelayedUpgrade(req, socket, head, app, claims.principal, claims.sid).catch((error: Error) => {
    log.error({ error: error.message }, 'relayed upgrade failed');
    writeRawResponse(socket, 500, {}, { error: 'internal', message: 'internal error' });
  });
}
