// edge.yaml's schema: every key, its type and its checks, as zod. config.ts resolves what this
// accepts into the shape the edge runs on.
import { z } from 'zod';
import { DEFAULTS, RESUME, SSO } from '../../shared/constants.js';
import { parseDuration } from '../../shared/contract/duration.js';
import { dialHostOfUrl, DNS_HOSTNAME, isLoopbackHost, parseHostPort, parseServiceUrl } from '../../shared/host.js';
import { isWeakSecretHash } from '../../shared/secrets.js';
import { isCidr } from './cidr.js';

/** Discovery's hint of what an app is, for the client's icon and default port. */
export const APP_KINDS = ['ssh', 'postgres', 'redis', 'rdp', 'other'] as const;

const hostname = z.string().regex(DNS_HOSTNAME, 'must be a lower-case DNS hostname');
const secretHash = z
  .string()
  .regex(/^sha256:[0-9a-f]{64}$/, 'must be "sha256:" followed by 64 hex digits (see `airlock tunnel create`)')
  .refine(
    (hash) => !isWeakSecretHash(hash),
    'is the hash of a weak or placeholder secret; make a real one with `airlock tunnel create` or `airlock service-token create`',
  );
const duration = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, 'must be a duration like "30m", "24h" or "7d"');
/** Clients reuse a token until this long before it expires; a shorter session would never be used. */
const MIN_APP_SESSION_MS = SSO.tokenReuseMarginMs + 60_000;
const appSessionDuration = duration.refine(
  (text) => (parseDuration(text) ?? Infinity) >= MIN_APP_SESSION_MS,
  `must be at least ${MIN_APP_SESSION_MS / 60_000}m: clients discard a token ${SSO.tokenReuseMarginMs / 1000}s before it expires, so a shorter one never connects`,
);
const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be 1-128 letters, digits, ".", "_" or "-"');

const rule = z.union([
  z.strictObject({ everyone: z.literal(true) }),
  z.strictObject({ email: z.string().includes('@', { message: 'must be an email address' }) }),
  z.strictObject({ emailDomain: hostname }),
  z.strictObject({ group: z.string().min(1) }),
  z.strictObject({ ip: z.string().refine(isCidr, 'must be an IP address or CIDR such as 127.0.0.0/8') }),
  z.strictObject({ serviceToken: z.union([id, z.literal('*')]) }),
]);

const policy = z.strictObject({
  include: z.array(rule).min(1, 'needs at least one rule: nobody is let in by default'),
  require: z.array(rule).default([]),
  exclude: z.array(rule).default([]),
});

export const app = z.strictObject({
  hostname,
  aud: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, 'must be 16-128 URL-safe characters (e.g. 64 hex digits)'),
  // Both or neither: an app without them is "unpublished" until an operator routes it.
  tunnel: id.optional(),
  service: z
    .string()
    .refine((text) => parseServiceUrl(text) !== undefined, 'must be tcp://host:port with a port from 1 to 65535')
    .optional(),
  sessionDuration: appSessionDuration.default(DEFAULTS.sessionDuration),
  limits: z
    .strictObject({
      maxStreamsPerIdentity: z.number().int().min(1).max(1_000_000).optional(),
      // Resumable streams (issue 23): how long a broken stream may wait for its client, and its replay buffer.
      resumeWindow: duration
        .refine((text) => (parseDuration(text) ?? 0) >= 1_000 && (parseDuration(text) ?? 0) <= RESUME.maxWindowMs, {
          message: 'must be between 1s and 10m',
        })
        .optional(),
      resumeBufferBytes: z.number().int().min(RESUME.minBufferBytes).max(RESUME.maxBufferBytes).optional(),
    })
    .optional(),
  /** A stream with no byte either way for this long ends (off when absent). */
  idleTimeout: duration.optional(),
  /** Open streams end when the session behind them expires (a re-sign-in in time carries them over). */
  disconnectOnExpiry: z.boolean().default(true),
  /** What discovery shows users the policy admits (GET /cdn-cgi/access/apps); all optional. */
  display: z
    .strictObject({
      name: z.string().min(1).max(64).optional(),
      description: z.string().max(256).optional(),
      kind: z.enum(APP_KINDS).optional(),
      localPort: z.number().int().min(1).max(65535).optional(),
    })
    .optional(),
  policy,
});

// ${NAME} in a string value is read from the environment, so secrets stay out of the file.
const fromEnv = z.string().transform((text, context) =>
  text.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
    const value = process.env[name];
    if (value === undefined) context.addIssue({ code: 'custom', message: `environment variable ${name} is not set` });
    return value ?? '';
  }),
);

export const idp = z
  .strictObject({
    // OIDC needs TLS to the issuer; plain http only for a development IdP on this machine.
    issuer: z
      .url({ error: 'must be the URL of the OIDC issuer' })
      .refine(
        (text) => new URL(text).protocol === 'https:' || isLoopbackHost(dialHostOfUrl(new URL(text))),
        'must be https:// (plain http only on a loopback address)',
      ),
    clientId: fromEnv.pipe(z.string().min(1)),
    // Required unless tokenEndpointAuthMethod is private_key_jwt (checked below).
    clientSecret: fromEnv.pipe(z.string().min(1)).optional(),
    groupsClaim: z.string().min(1).optional(),
    scopes: z.array(z.string().min(1)).optional(),
    /** Claim names (docs/sso.md): read from the ID token, else from userinfo. */
    claims: z.strictObject({ email: z.string().min(1).optional(), groups: z.string().min(1).optional() }).optional(),
    /** Unset: chosen from the provider's discovery document. */
    tokenEndpointAuthMethod: z.enum(SSO.tokenEndpointAuthMethods).optional(),
    privateKeyFile: z.string().min(1).optional(),
    privateKeyId: z.string().min(1).optional(),
    /** Sign-out also ends the provider's session when it offers end_session_endpoint. */
    rpInitiatedLogout: z.boolean().optional(),
  })
  .superRefine((value, context) => {
    const keyed =
      value.tokenEndpointAuthMethod === 'private_key_jwt' || (!value.tokenEndpointAuthMethod && value.privateKeyFile);
    if (keyed && !value.privateKeyFile)
      context.addIssue({ code: 'custom', path: ['privateKeyFile'], message: 'is required for private_key_jwt' });
    if (!keyed && !value.clientSecret)
      context.addIssue({
        code: 'custom',
        path: ['clientSecret'],
        message: 'is required (or use private_key_jwt with privateKeyFile)',
      });
  });

export const schema = z.strictObject({
  listen: z
    .string()
    .refine(
      (text) => parseHostPort(text, { allowPortZero: true }) !== undefined,
      'must be host:port, e.g. 0.0.0.0:443',
    ),
  publicUrl: z
    .url({ protocol: /^https$/, error: 'must be the https:// URL clients use to reach this edge' })
    .optional(),
  tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }),
  idp: idp.optional(),
  /** How long one sign-in at the IdP lasts: the organisation session on the sign-in domain. */
  sessionDuration: duration.default(SSO.organisationSessionDuration),
  stateDir: z.string().min(1).optional(),
  /** Several edges: the internal listener other edges relay streams to (docs/scale.md). */
  relay: z
    .strictObject({
      listen: z
        .string()
        .refine(
          (text) => parseHostPort(text, { allowPortZero: true }) !== undefined,
          'must be host:port, e.g. edge-1.internal:8443',
        ),
      url: z
        .url({ protocol: /^https$/, error: 'must be the https:// URL other edges reach this listener at' })
        .optional(),
      ca: z.string().min(1).optional(),
      /** Its own certificate (for relay.url's internal name); default: the public tls. */
      tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
    })
    .optional(),
  /** Several edges: shared state in PostgreSQL (docs/scale.md). The URL may come from ${ENV}. */
  state: z
    .strictObject({
      postgres: z.strictObject({
        url: fromEnv.pipe(
          z
            .string()
            .regex(
              /^postgres(ql)?:\/\/\S+$/,
              'must be a postgres:// URL, e.g. postgres://airlock@db.internal:5432/airlock',
            ),
        ),
      }),
    })
    .optional(),
  audit: z
    .strictObject({
      file: z.string().min(1),
      /** While the file cannot be written: keep serving (buffer, count, say degraded) or refuse new streams. */
      onFailure: z.enum(['serve', 'refuse']).optional(),
    })
    .optional(),
  metrics: z.strictObject({ allow: z.array(z.string().refine(isCidr, 'must be an IP address or CIDR')) }).optional(),
  limits: z
    .strictObject({
      maxConnectionsPerIp: z.number().int().min(1).optional(),
      /** Default for every app's concurrent streams per identity (apps[].limits overrides it). */
      maxStreamsPerIdentity: z.number().int().min(1).max(1_000_000).optional(),
      handshakeTimeout: duration.optional(),
    })
    .optional(),
  /** Load balancers whose PROXY protocol v2 header names the real client (docs/scale.md); nobody else's is read. */
  trustedProxies: z.array(z.string().refine(isCidr, 'must be an IP address or CIDR such as 127.0.0.1/32')).optional(),
  apps: z.array(app).default([]),
  /** Who may sign in with `airlock tunnel login` and publish hostnames (same rule shapes as apps). */
  admins: policy.optional(),
  /** Domains whose hostnames operators may publish (a hostname equal to or under one of them). */
  domains: z.array(hostname).default([]),
  tunnels: z.array(z.strictObject({ id, name: z.string().optional(), secretHash })).default([]),
  serviceTokens: z.array(z.strictObject({ id, name: z.string().optional(), secretHash })).default([]),
});

export type PolicyRule = z.infer<typeof rule>;
export type Policy = z.infer<typeof policy>;
