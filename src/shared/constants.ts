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
  /** On a 302 for a token the edge refused: why, as the client's code (TOKEN_EXPIRED, TOKEN_REVOKED, TOKEN_INVALID). */
  tokenRefused: 'airlock-token-refused',
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
  // Resumable streams (docs/architecture.md "Resumable streams"), negotiated like half-close.
  /** Client → edge `1` (asks); edge → connector `WINDOW_MS,BUFFER_BYTES`; back on the 200 and the 101 as granted. */
  resume: 'airlock-resume',
  /** Connector → edge → client on the 101: `CONNECTOR_ID.STREAM_ID.SECRET`; client → edge → connector to resume. */
  resumeToken: 'airlock-resume-token',
  /** Client → edge → connector when resuming: `RECEIVED,SENT` data bytes, for the audit. */
  resumeOffsets: 'airlock-resume-offsets',
  /** Connector → edge on a resumed stream: JSON {gapMs, replayUp, replayDown, previousEdge}. */
  resumeReport: 'airlock-resume-report',
  /** Edge → connector on a resumable stream: which edge carries it (the audit's "edge before"). */
  edgeId: 'airlock-edge-id',
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

/** Resumable streams: defaults per app (edge.yaml apps[].limits) and the bounds a connector accepts. */
export const RESUME = {
  windowMs: 60_000,
  bufferBytes: 4 * 1024 * 1024,
  maxWindowMs: 10 * 60_000,
  minBufferBytes: 64 * 1024,
  maxBufferBytes: 64 * 1024 * 1024,
  /** First and longest wait between the client's attempts to resume (doubling in between). */
  retryBaseMs: 150,
  retryMaxMs: 10_000,
  /**
   * A resumable tunnel pings the edge this often; hearing nothing (no pong, no data) for two
   * intervals means the path is black-holed, and the tunnel is dropped and dialled again.
   */
  pingIntervalMs: 5_000,
  /**
   * The edge answering 503 no_connector this long without a break means the connector holding the
   * stream is gone (it would have reconnected by now): the client gives up and resets.
   */
  noConnectorGiveUpMs: 5_000,
  /**
   * The client keeps trying this long past the window: the connector's clock decides, and a late
   * resume is refused explicitly (and audited) rather than given up on in silence.
   */
  clientGraceMs: 5_000,
} as const;

/**
 * The RST_STREAM code (REFUSED_STREAM) an edge ends a connector's stream with when access ended on
 * purpose (sign-out, lock, expiry, idle): the connector drops a resumable stream at once rather
 * than hold its origin socket for a resume that would be refused. Transport losses arrive as
 * CANCEL or INTERNAL_ERROR.
 */
export const ACCESS_ENDED_RST_CODE = 0x7;

/** WebSocket close codes (RFC 6455 §7.4.1). */
export const CLOSE = {
  normal: 1000,
  /** A relaying edge whose client left without ending its upload: the far edge resets the origin. */
  goingAway: 1001,
  noStatus: 1005,
  abnormal: 1006,
  unsupportedData: 1003,
  originFailed: 1011,
  /** A stopping edge hands resumable streams off: resume through another edge (RFC 6455 registry: Service Restart). */
  serviceRestart: 1012,
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
  /** Claim name of the user's email address, overridable per IdP (edge.yaml idp.claims.email). */
  defaultEmailClaim: 'email',
  /** edge.yaml idp.tokenEndpointAuthMethod: how the edge authenticates at the IdP's token endpoint. */
  tokenEndpointAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
  /** Signatures accepted on the IdP's ID tokens (checked against its JWKS): asymmetric only. */
  idTokenAlgorithms: [
    'RS256',
    'RS384',
    'RS512',
    'PS256',
    'PS384',
    'PS512',
    'ES256',
    'ES384',
    'ES512',
    'EdDSA',
    'Ed25519',
  ],
  /** An ID token naming a key the edge has not seen refetches the IdP's JWKS at most this often. */
  idpJwksCooldownMs: 30_000,
  /** The IdP's ID token, kept on the sign-in host for sign-out only: the id_token_hint of RP-initiated logout. */
  idTokenHintCookie: 'airlock_idp_session',
  /** App-host cookie a browser holds while its hand-off is in flight; the code carries its sha256 (login CSRF). */
  handoffBindingCookie: 'airlock_handoff',
  /** The login path's query parameter that carries that cookie's sha256 to the sign-in host. */
  handoffBindingParam: 'binding',
  /** Sign-in-host cookie (SameSite=Strict) whose value the native-app consent form must echo. */
  consentCookie: 'airlock_consent',
  /** Each one-time store (login states, codes, hand-offs) refuses new entries past this (429), never evicts. */
  maxPendingEntries: 20_000,
  /** Sign-in starts (a login state each) per client address and per /24 or /64 network, per minute. */
  loginStartsPerAddress: 30,
  loginStartsPerNetwork: 120,
  loginStartWindowMs: 60_000,
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

/** The edge's audit log when its file cannot be written (src/edge/observability/audit-file.ts). */
export const AUDIT = {
  /** Records kept for when writing works again; past this they are counted in an `audit-gap` record. */
  bufferRecords: 10_000,
  /** How often the file is reopened while writing fails. */
  retryMs: 2_000,
} as const;

/** Clocks of edges, connectors and the database disagree a little (docs/scale.md "When a part fails"). */
export const CLOCK = {
  /** Leeway for iat, nbf and exp of app and organisation tokens, relay and stream assertions. */
  toleranceSeconds: 30,
  /** An edge whose clock differs from PostgreSQL's by more than this says so (log, /healthz degraded). */
  skewWarnMs: 5_000,
  /** How often an edge compares its clock with PostgreSQL's. */
  skewCheckMs: 30_000,
} as const;

/** The edge's requests to the organisation's IdP (src/edge/sign-in/idp-requests.ts). */
export const IDP = {
  /** In flight at once per edge; more sign-ins wait their turn instead of all timing out together. */
  maxConcurrentRequests: 16,
  /** Per request once sent: long enough for a busy IdP, short of the balancer's 30 s. */
  requestTimeoutSeconds: 20,
} as const;
