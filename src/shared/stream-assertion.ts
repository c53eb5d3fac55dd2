// Every CONNECT stream carries a short-lived JWT signed by the edge naming the app, the service,
// the stream and who asked (defence in depth: docs/security.md): the connector checks it against the
// edge's published keys, so a stream is never opened on the edge's routing alone.
export const STREAM_ASSERTION = {
  header: 'airlock-stream-assertion',
  type: 'stream',
  lifetimeSeconds: 60,
} as const;

export interface StreamAssertionClaims {
  /** The tunnel the stream was routed to. */
  tun: string;
  /** Application hostname. */
  host: string;
  /** Origin service host:port (the CONNECT :authority). */
  svc: string;
  /** Stream id, also in the audit log. */
  sid: string;
  /** describePrincipal(): who the edge let in. */
  who: string;
}
