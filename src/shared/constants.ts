// One place for each fact of the wire contract (docs/architecture.md "Client ↔ edge", "Edge ↔ connector").

/** Credential headers, cloudflared-compatible. Node lower-cases incoming header names. */
export const HEADER = {
  accessToken: 'cf-access-token',
  jwtAssertion: 'cf-access-jwt-assertion',
  clientId: 'cf-access-client-id',
  clientSecret: 'cf-access-client-secret',
  accessAud: 'cf-access-aud',
  /**
   * Client → edge on the upgrade, echoed on the 101 when the edge agrees: the tunnel carries TCP
   * half-close as an empty binary message (src/shared/websocket-stream.ts). Clients that do not ask
   * (cloudflared) get the plain protocol.
   */
  halfClose: 'airlock-half-close',
  accessDomain: 'cf-access-domain',
  /** Edge → connector: which application hostname a stream is for. */
  appHostname: 'airlock-app-hostname',
  /** Edge → connector: JSON of the verified identity (who, for the origin's logs). */
  identity: 'airlock-identity',
  /** Edge → connector: the stream id, shared with the audit log. */
  streamId: 'airlock-stream-id',
  /** Connector → edge on a refused stream: a short machine-readable reason. */
  refusal: 'airlock-refusal',
  connectorId: 'airlock-connector-id',
  connectionIndex: 'airlock-connection-index',
} as const;

export const AUTH_COOKIE = 'CF_Authorization';

export const PATH = {
  accessPrefix: '/cdn-cgi/access/',
  login: '/cdn-cgi/access/login/',
  cli: '/cdn-cgi/access/cli',
  callback: '/cdn-cgi/access/callback',
  /** On each app host: trades a one-time hand-off code for that host's CF_Authorization cookie. */
  authorized: '/cdn-cgi/access/authorized',
  token: '/cdn-cgi/access/token',
  certs: '/cdn-cgi/access/certs',
  /** The apps the caller may reach (discovery): organisation session or service token. */
  apps: '/cdn-cgi/access/apps',
  logout: '/cdn-cgi/access/logout',
  tunnel: '/cdn-cgi/tunnel',
  /** Operators' API: tunnels and routes, Bearer connector credential. */
  adminPrefix: '/cdn-cgi/admin/',
  health: '/healthz',
  metrics: '/metrics',
} as const;

/** The Upgrade token a connector asks for before the roles flip to reverse HTTP/2. */
export const TUNNEL_UPGRADE = 'airlock-tunnel';

export const DEFAULTS = {
  /** cloudflared always dials 443; so does the client unless told otherwise. */
  edgePort: 443,
  localHost: '127.0.0.1',
  connectorConnections: 4,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
  drainTimeoutMs: 30_000,
  /** Dial timeout for the edge and for origins: long enough for a slow link, short enough to tell the user. */
  connectTimeoutMs: 10_000,
  /** Keep idle tunnels alive through proxies and NATs (ping/pong: docs/architecture.md "Client ↔ edge"). */
  pingIntervalMs: 30_000,
  sessionDuration: '24h',
  /** A WebSocket message never needs to be larger than a socket read; this bounds memory per frame. */
  maxFrameBytes: 1024 * 1024,
  maxHeaderBytes: 16 * 1024,
  /**
   * Streams one identity (a user or a service token) may have open to one app at once: each dials
   * the origin, so one identity must not exhaust its connection limit (Postgres max_connections
   * is 100 by default). Per app: edge.yaml apps[].limits.maxStreamsPerIdentity.
   */
  maxStreamsPerIdentity: 256,
  /** Failed service-token attempts an address may make per minute before it is answered 429. */
  serviceTokenFailuresPerMinute: 10,
} as const;

/** WebSocket close codes (RFC 6455 §7.4.1). */
export const CLOSE = {
  normal: 1000,
  noStatus: 1005,
  abnormal: 1006,
  unsupportedData: 1003,
  originFailed: 1011,
  /** The edge ended an open stream on purpose (sign-out, lock, expiry, idle): the reason says which. */
  accessEnded: 1008,
} as const;

/**
 * Why the edge ended an open stream: the close reason the client shows and the audit record's
 * outcome (docs/security.md "What ends when"). Each fits a close frame's 123 bytes.
 */
export const STREAM_END_REASON = {
  signedOut: 'signed out',
  locked: 'revoked by an administrator',
  expired: 'session expired',
  idle: 'idle timeout',
} as const;
export type StreamEndReason = (typeof STREAM_END_REASON)[keyof typeof STREAM_END_REASON];

/** Single sign-on (docs/architecture.md "Sign-in in brief"). */
export const SSO = {
  /** App tokens larger than this are refused before any parsing: a real one is under 1 KB. */
  maxTokenBytes: 8 * 1024,
  /** The only signing algorithm issued and accepted (RFC 8725 §3.1: an explicit allow-list). */
  tokenAlgorithm: 'ES256',
  tokenType: 'app',
  /** One-time codes handed to the native app's loopback listener (RFC 8252 §7.3). */
  loginCodeTtlMs: 60_000,
  /** In-flight browser logins (state, nonce, PKCE verifier) kept server-side this long. */
  loginStateTtlMs: 10 * 60_000,
  /** Cookie that names an in-flight browser login; HttpOnly, SameSite=Lax so the IdP's redirect carries it. */
  loginStateCookie: 'airlock_login',
  /** A stored token is reused until exp minus this margin, so it never expires mid-handshake. */
  tokenReuseMarginMs: 60_000,
  loopbackCallbackPath: '/callback',
  loopbackTimeoutMs: 5 * 60_000,
  keychainService: 'airlock',
  /**
   * The organisation session (docs/sso.md "Sign-in domain"): a token of its own type and audience,
   * held as the sign-in host's CF_Authorization cookie or by the client, that mints app tokens for
   * every app the user's policy allows without another trip to the IdP. Never valid as an app token.
   */
  organisationAud: 'airlock-organisation',
  organisationTokenType: 'org',
  organisationSessionDuration: '24h',
  /** Hand-off codes that carry an app token from the sign-in host to the app host's /authorized. */
  handoffCodeTtlMs: 60_000,
  /** Claim names in the IdP's ID token, overridable per IdP (edge.yaml idp.groupsClaim). */
  defaultGroupsClaim: 'groups',
} as const;

/** Operators publishing hostnames: `airlock tunnel login`, the admin API, the route store. */
export const HOST_ADMIN = {
  /** The aud the native-app login asks for to become an operator; edge.yaml apps may not use it. */
  loginAud: 'airlock-edge-administration',
  /** Token type of the operator's credential: never accepted where an app token is, and vice versa. */
  credentialType: 'connector',
  credentialMs: 7 * 24 * 60 * 60_000,
  routeFile: 'routes.json',
} as const;
