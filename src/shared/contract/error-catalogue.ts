// Every error code a user can meet, declared once with what it means and what to do about it.
// The CLI prints `airlock: [CODE] message`, the window shows the code beside the message, and
// docs/troubleshooting.md ("Error codes") has a row for each. The code unions are the keys below.
// Browser-safe: the renderer reads it. Over 300 lines because it is one list, kept whole on purpose.

export type ErrorKind =
  /** AirlockError: the CLI, the client engine, the desktop app, the edge's own failures. */
  | 'airlock'
  /** The desktop app's API between the window (or `airlock ui`) and its core, beyond AirlockError codes. */
  | 'api'
  /** The `error` member of the edge's JSON refusals, spelt as on the wire: cloudflared-compatible clients read them. */
  | 'edge';

export interface ErrorEntry {
  kind: ErrorKind;
  /** What happened, in one line. */
  meaning: string;
  /** What to do about it, in one line. */
  action: string;
  /** What the window says instead when `meaning` or `action` name a command, a flag or a file key: plain words, no CLI syntax. */
  gui?: string;
}

export const ERROR_CATALOGUE = {
  CONFIG_INVALID: {
    kind: 'airlock',
    meaning: 'A configuration file or setting does not validate; the message names the key.',
    action: 'Fix the key named in the message; `airlock edge --config FILE --check` checks an edge config.',
    gui: 'A setting is not valid. Correct the setting the message names.',
  },
  CONFIG_UNREADABLE: {
    kind: 'airlock',
    meaning:
      'A file the configuration names (config, TLS certificate or key, CA, signing key, revocation list) cannot be read or is damaged.',
    action: 'Fix the path or its permissions, or restore the file from backup.',
  },
  EDGE_UNREACHABLE: {
    kind: 'airlock',
    meaning:
      'No connection to the edge: its name does not resolve, nothing listens there, or a firewall drops the traffic.',
    action:
      "Check the edge's address and that outbound connections on its port (443 by default) are allowed; `curl https://EDGE/healthz`.",
    gui: 'Airlock cannot reach the edge. Check your network connection, or ask your administrator whether the edge is up.',
  },
  TLS_FAILED: {
    kind: 'airlock',
    meaning: "The edge's certificate does not verify (unknown CA, another name, expired), or a proxy intercepts TLS.",
    action: "Pass the edge's CA with --ca FILE or NODE_EXTRA_CA_CERTS; the certificate must name the host dialled.",
    gui: 'Airlock cannot confirm the edge is genuine: its certificate is not trusted here. Ask your administrator.',
  },
  AUTH_REQUIRED: {
    kind: 'airlock',
    meaning: 'The edge wants credentials this client does not have, or refused the ones it sent.',
    action: 'Sign in (`airlock access login HOST`), or check the service token id and secret.',
    gui: 'The edge wants you to sign in. Sign in, then try again.',
  },
  ACCESS_DENIED: {
    kind: 'airlock',
    meaning: "The identity is valid, but the application's policy does not admit it.",
    action: "Ask the edge's administrator for access; the audit log names the rule that decided.",
  },
  APP_NOT_FOUND: {
    kind: 'airlock',
    meaning: 'The edge has no application for this hostname.',
    action: 'Check the hostname and --edge; the administrator adds the app under `apps:` in edge.yaml.',
    gui: "The edge does not offer this address. Check the hostname and the edge in the resource's settings.",
  },
  NO_CONNECTOR: {
    kind: 'airlock',
    meaning: "The service is offline: no connector of the application's tunnel is connected to the edge.",
    action: "Start `airlock tunnel run` with the tunnel's token next to the service, and check its log.",
    gui: 'The service is offline: nothing connects it to the edge right now. Ask its administrator.',
  },
  ORIGIN_FAILED: {
    kind: 'airlock',
    meaning: 'The connector could not reach the service, or refused the stream (ingress rules, stream assertion).',
    action: "Start the service; make the connector's ingress rule and the app's `service` name the same address.",
    gui: 'The service does not answer. Try again later, or ask its administrator.',
  },
  PORT_IN_USE: {
    kind: 'airlock',
    meaning: 'Another program already listens on the port.',
    action: 'Choose another port, or stop the program holding it (`lsof -i :PORT`).',
    gui: 'Another program on this computer uses the port. Choose another port (the row offers a free one), or close that program.',
  },
  BAD_ARGUMENT: {
    kind: 'airlock',
    meaning: 'A flag, an argument or a request is missing or malformed; the message says which.',
    action: 'Correct it; `airlock COMMAND --help` shows the usage.',
    gui: 'Something in the request is missing or not valid; the message says what. Correct it and try again.',
  },
  TUNNEL_AUTH_FAILED: {
    kind: 'airlock',
    meaning: "The edge refused the connector's tunnel token.",
    action:
      'Use the token printed with the `secretHash` that is in edge.yaml, or create a new one with `airlock tunnel create`.',
    gui: "The edge refused the service's connection. Ask its administrator.",
  },
  EDGE_ERROR: {
    kind: 'airlock',
    meaning: 'The edge, or something in front of it, gave an answer the client does not expect.',
    action:
      "Check that nothing between client and edge terminates TLS or strips `Upgrade`; otherwise see the edge's log.",
    gui: 'The edge gave an answer Airlock does not expect. Try again; if it recurs, ask your administrator.',
  },
  TOKEN_INVALID: {
    kind: 'airlock',
    meaning: 'A token is malformed, forged, or for another application or edge.',
    action: 'Sign in again.',
  },
  TOKEN_EXPIRED: {
    kind: 'airlock',
    meaning: 'The token or session has expired.',
    action: 'Sign in again.',
  },
  TOKEN_REVOKED: {
    kind: 'airlock',
    meaning: 'The session was signed out: it is revoked at the edge.',
    action: 'Sign in again.',
  },
  IDP_UNREACHABLE: {
    kind: 'airlock',
    meaning: 'The edge cannot reach the identity provider.',
    action: "Check `idp.issuer` in edge.yaml and the edge's outbound access to the identity provider.",
    gui: "The edge cannot reach your organisation's sign-in service. Try again later, or ask your administrator.",
  },
  LOGIN_FAILED: {
    kind: 'airlock',
    meaning:
      'The sign-in did not complete: the identity provider refused it, its link expired or was used, or the edge refused the one-time code.',
    action: "Sign in again; if it recurs, check the clocks and the edge's log.",
  },
  IDP_REFUSED: {
    kind: 'airlock',
    meaning: 'The identity provider refused the sign-in; the message quotes its `error` and `error_description`.',
    action:
      "Read the provider's reason in the message; if it names the user (access_denied), ask the provider's administrator.",
    gui: "Your organisation's sign-in service refused the sign-in; the message gives its reason. If it names your account, ask your administrator.",
  },
  IDP_CLIENT_REFUSED: {
    kind: 'airlock',
    meaning: "The identity provider's token endpoint refused the edge's client credentials (invalid_client).",
    action:
      'Check `idp.clientId`, `idp.clientSecret` and `idp.tokenEndpointAuthMethod` in edge.yaml against the client registered at the provider (docs/sso.md).',
    gui: "Your organisation's sign-in service does not accept the edge. Ask your administrator.",
  },
  IDP_CLAIM_MISSING: {
    kind: 'airlock',
    meaning: 'The identity provider sent no usable email address (or subject), in the ID token or from userinfo.',
    action: 'Grant the "email" scope to the Airlock client at the provider, or set `idp.claims.email` in edge.yaml.',
    gui: "Your organisation's sign-in service did not say who you are (no email address). Ask your administrator.",
  },
  ID_TOKEN_INVALID: {
    kind: 'airlock',
    meaning: "The identity provider's ID token failed its signature check against the provider's published keys.",
    action: "Check that `idp.issuer` is the provider that signed it; the edge's log names the key set it used.",
    gui: "Your organisation's sign-in service sent an answer that does not verify. Ask your administrator.",
  },
  LOGIN_TIMEOUT: {
    kind: 'airlock',
    meaning: 'Nobody finished the browser sign-in within 5 minutes.',
    action: 'Sign in again and finish it in a browser on this machine.',
  },
  LOGIN_CANCELLED: {
    kind: 'airlock',
    meaning: 'The sign-in was cancelled in the app before it finished.',
    action: 'Sign in again when ready.',
  },
  SIGNED_OUT: {
    kind: 'airlock',
    meaning:
      'You signed out of this edge in the app, so its resources refuse connections instead of opening a browser.',
    action: 'Sign in again (the row or the section offers it) when you want to use them.',
  },
  KEYCHAIN_UNAVAILABLE: {
    kind: 'airlock',
    meaning:
      'The OS keychain cannot store sign-in tokens here: a warning when tokens go to the 0600 file instead, an error when no fallback is allowed.',
    action: 'Run inside a desktop session with an unlocked keyring, or let Airlock use its token file.',
  },
  STORE_UNAVAILABLE: {
    kind: 'airlock',
    meaning: 'The shared PostgreSQL store of several edges did not answer; the edge answers 503 for what needs it.',
    action: "Check the database and the edges' `state.postgres.url`.",
    gui: "The edge's database does not answer. Try again later, or ask your administrator.",
  },
  SECRET_FILE_UNSAFE: {
    kind: 'airlock',
    meaning:
      'A file that holds a secret (token file, tokenFile, TLS key, IdP users file) is not a regular file, belongs to another user, or others may read it.',
    action: 'Make it a regular file you (or root) own with mode 600: `chmod 600 FILE`; the message names the file.',
    gui: 'A file that holds a secret can be read by others. Make it readable by you alone; the message names the file.',
  },
  SIGN_IN_BUSY: {
    kind: 'airlock',
    meaning:
      'The edge refused to start a sign-in (429 with Retry-After): too many from this address or network, or too many in progress.',
    action:
      'Wait the number of seconds in Retry-After and sign in again; if it persists, someone may be flooding the edge.',
  },
  LISTENER_EXPOSED: {
    kind: 'airlock',
    meaning:
      'A warning: `access tcp` listens on an address other hosts can reach, and each of them uses your credential.',
    action: 'Listen on 127.0.0.1 (the default) unless others must share the tunnel on purpose.',
    gui: 'Other computers can reach this local address and would use your sign-in. Keep it on 127.0.0.1 unless that is wanted.',
  },
  UNEXPECTED: {
    kind: 'airlock',
    meaning: 'A failure the CLI has no code for: a bug, printed with its stack.',
    action: 'Report it with the whole message and `airlock --version`.',
    gui: 'Something went wrong that Airlock has no explanation for. Report it with the message from the Logs view.',
  },
  NOT_BUILT: {
    kind: 'airlock',
    meaning: "This checkout's dist/ is missing: `airlock` runs the compiled CLI, which was not built.",
    action: 'Run `npm run build` (`npm ci` does it), or install the packed tarball.',
    gui: 'This copy of Airlock is incomplete. Install it again.',
  },
  SERVICE_MANAGER_FAILED: {
    kind: 'airlock',
    meaning: '`airlock service install` wrote the files, but systemctl or launchctl refused or is not running.',
    action: 'Run the printed command by hand once the service manager is available.',
    gui: "The system refused to start Airlock's service. Ask your administrator.",
  },
  SERVICE_WOULD_NOT_START: {
    kind: 'airlock',
    meaning:
      "`airlock service install` found files the service could not use: under /tmp, which PrivateTmp=yes hides, or out of reach of the service's unprivileged user (a 0700 or 0750 home, /root).",
    action:
      'Install node and airlock where every user can read them (`npm pack` + `sudo npm install -g` puts airlock under /usr/local), then install the service from there.',
    gui: "Airlock's service cannot use the files it was given. Ask your administrator.",
  },
  RATE_LIMITED: {
    kind: 'airlock',
    meaning:
      'The edge refuses this address for a while after too many failed attempts (429); the message says how long.',
    action: "Wait as long as the message says, and fix the service token's id or secret.",
  },
  NO_POLICY: {
    kind: 'airlock',
    meaning: 'A route for a hostname edge.yaml has no access policy for; the edge publishes nothing unprotected.',
    action: 'Add the printed snippet under `apps:` in edge.yaml, restart the edge, and publish again.',
    gui: "The edge has no access rule for this hostname, so it publishes nothing. Ask the edge's administrator.",
  },
  ROUTE_TAKEN: {
    kind: 'airlock',
    meaning: 'Another tunnel, or edge.yaml itself, already serves this hostname.',
    action: 'Choose another hostname, or delete the other tunnel first (`airlock tunnel delete NAME`).',
    gui: 'Another service already uses this hostname. Choose another one.',
  },
  // Resumable streams (issue 23)
  RESUME_REFUSED: {
    kind: 'airlock',
    meaning:
      'A connection broken mid-stream could not be resumed: its window passed, the connector no longer holds it, or the credential no longer admits it. Both ends were reset.',
    action: 'Reconnect; the program sees a reset, so a cut transfer is never taken for complete. Retry it.',
  },
  // Issue 27: the edge ended an open stream on purpose.
  ACCESS_ENDED: {
    kind: 'airlock',
    meaning:
      'The edge ended an open connection: signed out, revoked by an administrator, session expired, or idle timeout (the message says which).',
    action: 'Sign in again (`airlock access login HOST`) and reconnect; a lock is lifted only by an administrator.',
    gui: 'The edge ended the connection (signed out, session expired, idle, or access revoked). Sign in again and reconnect.',
  },

  INVALID_INPUT: {
    kind: 'api',
    meaning: 'A request from the window has fields that do not validate; the form marks which.',
    action: 'Correct the marked fields.',
  },
  UNKNOWN_METHOD: {
    kind: 'api',
    meaning: 'The window asked for a call this version of the app does not have.',
    action: 'Restart the app, so the window and its core are the same version.',
  },
  NOT_FOUND: {
    kind: 'api',
    meaning: 'The resource, or the waiting sign-in, named no longer exists.',
    action: 'Reload the list: it may have been removed meanwhile.',
  },
  CONFLICT: {
    kind: 'api',
    meaning: 'The change clashes with another resource (same name or local port) or with a limit.',
    action: 'Choose another name or port.',
  },
  UNSUPPORTED: {
    kind: 'api',
    meaning: 'Only the desktop app can do this (shortcuts, the window), not browser mode.',
    action: 'Use the desktop app.',
  },
  FAILED: {
    kind: 'api',
    meaning: 'The app failed in a way it has no code for; the message says what.',
    action: 'Try again; the Logs view has the details.',
  },
  FORBIDDEN: {
    kind: 'api',
    meaning: 'A call came from a page that is not the Airlock window.',
    action: 'None: such calls are refused on purpose.',
  },
  DISCONNECTED: {
    kind: 'api',
    meaning: 'The browser-mode page lost its connection to `airlock ui`.',
    action: 'Check that `airlock ui` is still running; the page reconnects by itself.',
    gui: 'This page lost its connection to Airlock. Check that Airlock is still running; the page reconnects by itself.',
  },

  app_not_found: {
    kind: 'edge',
    meaning: 'No application is configured for the hostname (404).',
    action: 'Check the hostname; the administrator adds the app under `apps:` in edge.yaml.',
  },
  access_denied: {
    kind: 'edge',
    meaning:
      "The identity is valid but the policy denies it (403); also /metrics from an address outside `metrics.allow`, and a relay another edge's keys do not vouch for.",
    action: 'Ask the administrator for access; the audit log has the reason.',
  },
  auth_required: {
    kind: 'edge',
    meaning:
      'The application list (/cdn-cgi/access/apps) was asked without a valid organisation session or service token (401).',
    action: 'Sign in to the edge first (`airlock access login HOST`), or pass a service token.',
  },
  no_connector: {
    kind: 'edge',
    meaning: "No connector of the application's tunnel is connected, or no route publishes the app yet (503).",
    action:
      'Start the connector (`airlock tunnel run`), or publish the hostname with `airlock tunnel --hostname HOST --url tcp://HOST:PORT`.',
  },
  origin_failed: {
    kind: 'edge',
    meaning: 'The connector refused the stream, could not reach the service, or did not answer within 10 s (502).',
    action: "Check the service, the connector's ingress rules and its log.",
  },
  bad_request: {
    kind: 'edge',
    meaning:
      'A malformed request (400): a Host that is no hostname, no WebSocket upgrade or a bad one, or a malformed admin call.',
    action: 'Use an Airlock or cloudflared client, and check that nothing in between strips `Upgrade`.',
  },
  upgrade_required: {
    kind: 'edge',
    meaning:
      'An allowed GET on an application hostname without a WebSocket upgrade (426); the CLI uses it to check credentials.',
    action: 'Connect with `airlock access tcp --hostname HOST --url 127.0.0.1:PORT`.',
  },
  rate_limited: {
    kind: 'edge',
    meaning: 'Too many failed service-token attempts from this address (429, with Retry-After).',
    action: "Wait as long as Retry-After says, and fix the service token's id or secret.",
  },
  too_many_streams: {
    kind: 'edge',
    meaning: 'This identity already has as many connections open to the application as the edge allows (429).',
    action: 'Close some, or ask the administrator to raise `apps[].limits.maxStreamsPerIdentity`.',
  },
  resume_refused: {
    kind: 'edge',
    meaning:
      'A resume of a broken stream (Airlock-Resume-Token) named no stream the connector still holds for this identity (410).',
    action: 'Open a new connection; the old one is reset at both ends. The audit log says why (`stream-resume`).',
  },
  sso_disabled: {
    kind: 'edge',
    meaning: 'A sign-in path on an edge without `idp:` (501); it tells the client not to open a browser.',
    action: 'Use a service token, or configure `idp:` on the edge.',
  },
  internal: {
    kind: 'edge',
    meaning: 'The edge failed in a way nobody planned for (500).',
    action: "See the edge's log, and report the failure with its log line.",
  },
  tunnel_auth_failed: {
    kind: 'edge',
    meaning:
      "The edge refused a connector's upgrade: a missing, malformed or unknown tunnel token (401), or no airlock-tunnel upgrade (400).",
    action: 'Use the tunnel token whose `secretHash` is in edge.yaml.',
  },
  no_admins: {
    kind: 'edge',
    meaning: 'Admin API: edge.yaml has no `admins:` policy, so nobody may publish hostnames through this edge (403).',
    action: 'Add `admins:` to edge.yaml and restart the edge.',
  },
  login_required: {
    kind: 'edge',
    meaning: 'Admin API: no operator credential, or one that does not verify (401).',
    action: 'Run `airlock tunnel login --edge URL`.',
  },
  credential_expired: {
    kind: 'edge',
    meaning: 'Admin API: the operator credential has expired (401).',
    action: 'Run `airlock tunnel login --edge URL` again.',
  },
  credential_revoked: {
    kind: 'edge',
    meaning: 'Admin API: the operator credential was revoked by a logout (401).',
    action: 'Run `airlock tunnel login --edge URL` again.',
  },
  not_admin: {
    kind: 'edge',
    meaning: "Admin API: the operator is not admitted by edge.yaml's `admins:` policy (403).",
    action: "Ask the edge's administrator to add you under `admins:`.",
  },
  no_tunnel: {
    kind: 'edge',
    meaning: 'Admin API: no tunnel has that name on this edge (404).',
    action: 'List the tunnels with `airlock tunnel list`.',
  },
  not_owner: {
    kind: 'edge',
    meaning: 'Admin API: the tunnel belongs to another operator (403; 409 when creating it).',
    action: 'Choose another tunnel name: only its owner may change a tunnel.',
  },
  bad_name: {
    kind: 'edge',
    meaning: 'Admin API: the tunnel name is not 1-128 letters, digits, ".", "_" or "-" (400).',
    action: 'Choose a name such as db-prod.',
  },
  not_found: {
    kind: 'edge',
    meaning: 'Admin API: no such endpoint (404).',
    action: 'Use an airlock CLI of the same version as the edge.',
  },
  bad_hostname: {
    kind: 'edge',
    meaning: 'Route: the hostname is not a DNS hostname (400).',
    action: 'Give a hostname such as db.example.com.',
  },
  bad_service: {
    kind: 'edge',
    meaning: 'Route: the service is not tcp://HOST:PORT (400).',
    action: 'Give the service as e.g. tcp://127.0.0.1:5432.',
  },
  bad_port: {
    kind: 'edge',
    meaning: "Route: the service's port is not from 1 to 65535 (400).",
    action: 'Correct the port.',
  },
  outside_domains: {
    kind: 'edge',
    meaning: 'Route: the hostname is not under a domain this edge serves (403).',
    action: "Use a hostname under edge.yaml's `domains:`, or ask the administrator to add the domain.",
  },
  no_policy: {
    kind: 'edge',
    meaning: 'Route: the hostname has no access policy in edge.yaml, and nothing is published unprotected (404).',
    action: 'Add the printed snippet under `apps:` in edge.yaml and restart the edge.',
  },
  route_taken: {
    kind: 'edge',
    meaning: 'Route: another tunnel, or edge.yaml itself, already serves the hostname (409).',
    action: 'Choose another hostname, or delete the other tunnel first.',
  },
  invalid_request: {
    kind: 'edge',
    meaning: 'Token endpoint: not a POST, or a body it cannot read (405 or 400; OAuth 2.0 error, RFC 6749 §5.2).',
    action: 'Start the sign-in from the Airlock client.',
  },
  invalid_grant: {
    kind: 'edge',
    meaning:
      'Token endpoint: the one-time sign-in code expired, was used already, failed the PKCE check, or its application is gone (400).',
    action: 'Sign in again; if it recurs, check the clocks and that every request reaches the same edge.',
  },
  temporarily_unavailable: {
    kind: 'edge',
    meaning: 'Token endpoint: the shared state store of several edges did not answer (503).',
    action: "Try again; check the edges' PostgreSQL.",
  },
  sign_out_not_recorded: {
    kind: 'edge',
    meaning:
      'Sign-out (503): the edge could not store it in the shared PostgreSQL store, so nothing was revoked and the session still works.',
    action: 'Sign out again once the database answers; the client keeps the token so you can.',
  },
  audit_unavailable: {
    kind: 'edge',
    meaning:
      'The edge cannot write its audit log (a full disk, a lost volume) and edge.yaml sets `audit.onFailure: refuse` (503).',
    action: "Free the audit log's disk: the edge serves again on its own within seconds (`/healthz` shows `audit`).",
  },
} as const satisfies Record<string, ErrorEntry>;

type Catalogue = typeof ERROR_CATALOGUE;
type CodesOf<Kind extends ErrorKind> = {
  [Code in keyof Catalogue]: Catalogue[Code]['kind'] extends Kind ? Code : never;
}[keyof Catalogue];

export type AirlockErrorCode = CodesOf<'airlock'>;
export type ApiErrorCode = CodesOf<'api'>;
export type EdgeRefusalCode = CodesOf<'edge'>;
/** What an error that reaches the window carries: an AirlockError's code or one of the API's own. */
export type ErrorCode = AirlockErrorCode | ApiErrorCode;

function isCatalogueCode(value: unknown): value is keyof Catalogue {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOGUE, value);
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return isCatalogueCode(value) && ERROR_CATALOGUE[value].kind !== 'edge';
}

/** The entry for a code, or undefined for a code the catalogue does not declare. */
export function describeErrorCode(code: string): ErrorEntry | undefined {
  return isCatalogueCode(code) ? ERROR_CATALOGUE[code] : undefined;
}

/** What an error means and what to do, as the window says it (no commands or flags). */
export function plainAdvice(code: string): string | undefined {
  const entry = describeErrorCode(code);
  if (!entry) return undefined;
  return 'gui' in entry ? entry.gui : `${entry.meaning} ${entry.action}`;
}
