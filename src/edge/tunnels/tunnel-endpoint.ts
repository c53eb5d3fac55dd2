// Connectors dial in here: `GET /cdn-cgi/tunnel` + `Upgrade: airlock-tunnel` + Bearer tunnel token.
// On 101 the roles flip (docs/architecture.md "Edge ↔ connector"): this edge becomes the HTTP/2 client.
import http2 from 'node:http2';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { HEADER, TUNNEL_UPGRADE } from '../../shared/constants.js';
import type { Logger } from '../../shared/logger.js';
import { decodeTunnelToken, secretMatches } from '../../shared/secrets.js';
import { H2_MAX_SESSION_MEMORY_MB, H2_SESSION_WINDOW, H2_SETTINGS } from '../../shared/http2-tuning.js';
import type { AuditLog } from '../observability/audit-log.js';
import type { EdgeConfig } from '../config/config.js';
import type { EdgeMetrics } from '../observability/metrics.js';
import { watchLiveness } from '../../shared/http2-liveness.js';
import { writeRawResponse } from '../http/json-answer.js';
import type { ConnectorConnection, TunnelRegistry } from './tunnel-registry.js';
import { clientAddress } from '../http/proxy-protocol.js';

export interface TunnelEndpointDeps {
  config: () => EdgeConfig;
  registry: TunnelRegistry;
  audit: AuditLog;
  metrics: EdgeMetrics;
  log: Logger;
}

export function handleTunnelUpgrade(req: IncomingMessage, socket: Duplex, deps: TunnelEndpointDeps): void {
  const { audit, log } = deps;
  const ip = clientAddress(req.socket);
  const connectorId = String(req.headers[HEADER.connectorId] ?? 'unknown').slice(0, 64);
  const index = Number(req.headers[HEADER.connectionIndex] ?? 0) || 0;
  const refuse = (status: number, reason: string, tunnel = '?') => {
    audit.write(
      { event: 'tunnel', tunnel: tunnel.slice(0, 64), connector: connectorId, ip, decision: 'deny', reason },
      { beforeIdentity: true },
    );
    log.warn({ ip, connectorId, tunnel, reason }, 'connector refused');
    writeRawResponse(socket, status, {}, { error: 'tunnel_auth_failed', message: reason });
  };

  if (String(req.headers.upgrade).toLowerCase() !== TUNNEL_UPGRADE)
    return refuse(400, `expected Upgrade: ${TUNNEL_UPGRADE}`);
  const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
  const token = bearer ? decodeTunnelToken(bearer) : undefined;
  if (!token) return refuse(401, 'missing or malformed tunnel token');
  const tunnel = deps.config().tunnels.get(token.tunnelId);
  if (!tunnel || !secretMatches(token.secret, tunnel.secretHash))
    return refuse(401, 'tunnel token not accepted', token.tunnelId);

  // The 101 must be fully written before HTTP/2 takes the socket over, or both write at once.
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${TUNNEL_UPGRADE}\r\n\r\n`,
    (error) => {
      if (error) return socket.destroy();
      attachSession(socket as TLSSocket, { tunnelId: tunnel.id, connectorId, index, ip }, deps);
    },
  );
  audit.write({
    event: 'tunnel',
    tunnel: tunnel.id,
    connector: connectorId,
    ip,
    decision: 'allow',
    reason: 'tunnel token accepted',
  });
}

function attachSession(
  socket: TLSSocket,
  who: { tunnelId: string; connectorId: string; index: number; ip: string },
  { registry, metrics, log }: TunnelEndpointDeps,
): void {
  const session = http2.connect(`http://${who.tunnelId}.tunnel`, {
    createConnection: () => socket,
    settings: H2_SETTINGS,
    maxSessionMemory: H2_MAX_SESSION_MEMORY_MB,
  });
  const connection: ConnectorConnection = {
    tunnelId: who.tunnelId,
    connectorId: who.connectorId,
    index: who.index,
    remote: who.ip,
    session,
    streams: 0,
    draining: false,
  };
  session.once('connect', () => session.setLocalWindowSize(H2_SESSION_WINDOW));
  registry.add(connection);
  metrics.connectorConnections.inc({ tunnel: who.tunnelId });
  log.info({ tunnel: who.tunnelId, connectorId: who.connectorId, index: who.index, ip: who.ip }, 'connector connected');

  watchLiveness(session);

  session.on('goaway', () => {
    connection.draining = true;
  });
  session.on('error', (error) => log.warn({ tunnel: who.tunnelId, error: error.message }, 'connector session error'));
  session.once('close', () => {
    registry.remove(connection);
    metrics.connectorConnections.dec({ tunnel: who.tunnelId });
    log.info({ tunnel: who.tunnelId, connectorId: who.connectorId, index: who.index }, 'connector disconnected');
  });
}
