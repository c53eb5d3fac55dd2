// edge.yaml: parsed, validated and resolved into the shape the edge runs on. Every error names the
// exact path in the file and what is wrong with it (exit code 2 in the CLI).
import { readConfigFileText } from '../../shared/regular-file.js';
import { dirname, resolve } from 'node:path';
import { isIP } from 'node:net';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { AirlockError } from '../../shared/errors.js';
import { parseDuration } from '../../shared/contract/duration.js';
import { parseHostPort, parseServiceUrl, type HostPort } from '../../shared/host.js';
import { DEFAULTS, HOST_ADMIN, RESUME, SSO } from '../../shared/constants.js';
import { formatIssues } from '../../shared/config-errors.js';
import { APP_KINDS, app, idp, schema, type Policy } from './config-schema.js';

export { APP_KINDS };
export type { Policy, PolicyRule } from './config-schema.js';

/** An app's access part: what the file always gives, published or not. */
export interface AppPolicyConfig {
  hostname: string;
  aud: string;
  sessionMs: number;
  maxStreamsPerIdentity: number;
  /** Ends a stream with no byte either way for this long; none = never. */
  idleTimeoutMs?: number;
  /** Ends a user's stream when the session behind it expires. */
  disconnectOnExpiry: boolean;
  display?: AppDisplay;
  policy: Policy;
}

export type AppDisplay = { name?: string; description?: string; kind?: (typeof APP_KINDS)[number]; localPort?: number };

export interface AppConfig {
  hostname: string;
  display?: AppDisplay;
  aud: string;
  tunnel: string;
  service: HostPort;
  /** `:authority` of the CONNECT stream: host:port as the connector's ingress rules name it. */
  serviceAuthority: string;
  sessionMs: number;
  /** Streams one identity may have open to this app at once. */
  maxStreamsPerIdentity: number;
  /** Resumable streams: how long one may wait for its client, and its replay buffer each way (RESUME defaults). */
  resume?: { windowMs: number; bufferBytes: number };
  /** Ends a stream with no byte either way for this long; none = never. */
  idleTimeoutMs?: number;
  /** Ends a user's stream when the session behind it expires. */
  disconnectOnExpiry: boolean;
  policy: Policy;
}

export interface EdgeConfig {
  listen: HostPort;
  publicUrl: string;
  /** No publicUrl in the file: it follows the bound address (so port 0 gets the real port). */
  publicUrlFromListen: boolean;
  tls: { cert: string; key: string };
  /** The organisation's OIDC provider; without it only service tokens are accepted. */
  idp?: z.infer<typeof idp>;
  /** Lifetime of the organisation session that one sign-in at the IdP starts. */
  organisationSessionMs: number;
  /** Signing keys, revocations: survives restarts. */
  stateDir: string;
  /** Internal listener for streams relayed from other edges (several edges only). */
  relay?: { listen: HostPort; url?: string; ca?: string; tls?: { cert: string; key: string } };
  /** Shared state for several edges; without it, files in stateDir and memory (one edge). */
  state?: { postgres: { url: string } };
  auditFile?: string;
  /** audit.onFailure: 'refuse' refuses new streams while the audit log cannot be written. */
  auditOnFailure: 'serve' | 'refuse';
  metricsAllow: string[];
  maxConnectionsPerIp: number;
  handshakeTimeoutMs: number;
  /** CIDRs of balancers that must open each connection with a PROXY v2 header; empty: none is read. */
  trustedProxies: string[];
  apps: Map<string, AppConfig>;
  /** Apps in the file with a policy but no tunnel/service yet: published by an operator's route. */
  unpublishedApps: Map<string, AppPolicyConfig>;
  admins?: Policy;
  domains: string[];
  tunnels: Map<string, { id: string; secretHash: string }>;
  serviceTokens: Map<string, { id: string; secretHash: string }>;
  /** Where the file was, for messages. */
  source: string;
}

/** Reads and validates an edge.yaml; throws AirlockError CONFIG_UNREADABLE or CONFIG_INVALID. */
export function loadEdgeConfig(file: string): EdgeConfig {
  const text = readConfigFileText(file, 'edge config');
  return parseEdgeConfig(text, file);
}

export function parseEdgeConfig(text: string, source: string): EdgeConfig {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    throw new AirlockError('CONFIG_INVALID', `${source}: YAML syntax error: ${first.message.split('\n')[0]}`);
  }
  const result = schema.safeParse(document.toJS() ?? {}, { reportInput: true });
  if (!result.success) {
    throw new AirlockError(
      'CONFIG_INVALID',
      `${source} is not a valid edge config:\n${formatIssues(result.error.issues)}`,
    );
  }
  return resolveConfig(result.data, source);
}

function resolveConfig(data: z.infer<typeof schema>, source: string): EdgeConfig {
  const base = dirname(resolve(source));
  const problems: string[] = [];
  const apps = new Map<string, AppConfig>();
  const unpublishedApps = new Map<string, AppPolicyConfig>();
  const tunnels = new Map(data.tunnels.map((tunnel) => [tunnel.id, tunnel]));
  const serviceTokens = new Map(data.serviceTokens.map((token) => [token.id, token]));
  const seenAud = new Map<string, number>();

  const streamLimit = (entry: z.infer<typeof app>) =>
    entry.limits?.maxStreamsPerIdentity ?? data.limits?.maxStreamsPerIdentity ?? DEFAULTS.maxStreamsPerIdentity;
  const streamEnds = (entry: z.infer<typeof app>) => ({
    disconnectOnExpiry: entry.disconnectOnExpiry,
    ...(entry.idleTimeout ? { idleTimeoutMs: parseDuration(entry.idleTimeout)! } : {}),
  });
  data.apps.forEach((entry, index) => {
    if (apps.has(entry.hostname) || unpublishedApps.has(entry.hostname))
      problems.push(`apps[${index}].hostname: "${entry.hostname}" is already used by another app`);
    const previousAud = seenAud.get(entry.aud);
    if (previousAud !== undefined)
      problems.push(`apps[${index}].aud: same aud as apps[${previousAud}]; each app needs its own`);
    seenAud.set(entry.aud, index);
    if (entry.aud === HOST_ADMIN.loginAud)
      problems.push(`apps[${index}].aud: "${HOST_ADMIN.loginAud}" is reserved for operator sign-in`);
    if (entry.aud === SSO.organisationAud)
      problems.push(`apps[${index}].aud: "${SSO.organisationAud}" is reserved for the organisation session`);
    if ((entry.tunnel === undefined) !== (entry.service === undefined)) {
      problems.push(
        `apps[${index}]: tunnel and service go together (give both, or neither to let an operator publish it)`,
      );
    }
    if (entry.tunnel !== undefined && !tunnels.has(entry.tunnel))
      problems.push(`apps[${index}].tunnel: no tunnel with id "${entry.tunnel}" under tunnels`);
    (['include', 'require', 'exclude'] as const).forEach((kind) =>
      entry.policy[kind].forEach((item, ruleIndex) => {
        if ('serviceToken' in item && item.serviceToken !== '*' && !serviceTokens.has(item.serviceToken)) {
          problems.push(
            `apps[${index}].policy.${kind}[${ruleIndex}].serviceToken: no service token with id "${item.serviceToken}"`,
          );
        }
      }),
    );
    if (entry.tunnel === undefined || entry.service === undefined) {
      unpublishedApps.set(entry.hostname, {
        hostname: entry.hostname,
        aud: entry.aud,
        sessionMs: parseDuration(entry.sessionDuration)!,
        maxStreamsPerIdentity: streamLimit(entry),
        ...streamEnds(entry),
        ...(entry.display ? { display: entry.display } : {}),
        policy: entry.policy,
      });
      return;
    }
    const service = parseServiceUrl(entry.service)!;
    apps.set(entry.hostname, {
      hostname: entry.hostname,
      aud: entry.aud,
      tunnel: entry.tunnel,
      service,
      serviceAuthority: entry.service.slice('tcp://'.length),
      sessionMs: parseDuration(entry.sessionDuration)!,
      maxStreamsPerIdentity: streamLimit(entry),
      resume: {
        windowMs: entry.limits?.resumeWindow ? parseDuration(entry.limits.resumeWindow)! : RESUME.windowMs,
        bufferBytes: entry.limits?.resumeBufferBytes ?? RESUME.bufferBytes,
      },
      ...streamEnds(entry),
      ...(entry.display ? { display: entry.display } : {}),
      policy: entry.policy,
    });
  });
  if (data.relay && !data.state) problems.push('relay: needs state.postgres (the edges find each other there)');
  // The sign-in host's CF_Authorization cookie holds the organisation session; an app there would
  // need the same cookie for its app token.
  const signInHost = data.publicUrl ? new URL(data.publicUrl).hostname : undefined;
  data.apps.forEach((entry, index) => {
    if (entry.hostname === signInHost)
      problems.push(
        `apps[${index}].hostname: "${entry.hostname}" is the sign-in domain (publicUrl); give the edge a hostname of its own, e.g. auth.${entry.hostname.split('.').slice(1).join('.') || 'example.com'}`,
      );
  });
  duplicates(data.tunnels.map((tunnel) => tunnel.id)).forEach((index) =>
    problems.push(`tunnels[${index}].id: duplicate id`),
  );
  duplicates(data.serviceTokens.map((token) => token.id)).forEach((index) =>
    problems.push(`serviceTokens[${index}].id: duplicate id`),
  );
  if (problems.length > 0) {
    throw new AirlockError(
      'CONFIG_INVALID',
      `${source} is not a valid edge config:\n${problems.map((line) => `  ${line}`).join('\n')}`,
    );
  }

  const listen = parseHostPort(data.listen, { allowPortZero: true })!;
  const publicHost = listen.host === '0.0.0.0' || listen.host === '::' ? 'localhost' : listen.host;
  return {
    listen,
    publicUrlFromListen: data.publicUrl === undefined,
    publicUrl: (
      data.publicUrl ?? `https://${isIP(publicHost) === 6 ? `[${publicHost}]` : publicHost}:${listen.port}`
    ).replace(/\/$/, ''),
    tls: { cert: resolve(base, data.tls.cert), key: resolve(base, data.tls.key) },
    ...(data.idp
      ? {
          idp: {
            ...data.idp,
            ...(data.idp.privateKeyFile ? { privateKeyFile: resolve(base, data.idp.privateKeyFile) } : {}),
          },
        }
      : {}),
    organisationSessionMs: parseDuration(data.sessionDuration)!,
    stateDir: resolve(base, data.stateDir ?? 'edge-state'),
    ...(data.state ? { state: data.state } : {}),
    ...(data.relay
      ? {
          relay: {
            listen: parseHostPort(data.relay.listen, { allowPortZero: true })!,
            ...(data.relay.url ? { url: data.relay.url } : {}),
            ...(data.relay.ca ? { ca: resolve(base, data.relay.ca) } : {}),
            ...(data.relay.tls
              ? { tls: { cert: resolve(base, data.relay.tls.cert), key: resolve(base, data.relay.tls.key) } }
              : {}),
          },
        }
      : {}),
    ...(data.audit ? { auditFile: data.audit.file === '-' ? '-' : resolve(base, data.audit.file) } : {}),
    auditOnFailure: data.audit?.onFailure ?? 'serve',
    metricsAllow: data.metrics?.allow ?? ['127.0.0.0/8', '::1/128'],
    maxConnectionsPerIp: data.limits?.maxConnectionsPerIp ?? 512,
    handshakeTimeoutMs: parseDuration(data.limits?.handshakeTimeout ?? '10s')!,
    trustedProxies: data.trustedProxies ?? [],
    apps,
    unpublishedApps,
    ...(data.admins ? { admins: data.admins } : {}),
    domains: data.domains,
    tunnels,
    serviceTokens,
    source,
  };
}

function duplicates(values: string[]): number[] {
  const seen = new Set<string>();
  return values.flatMap((value, index) => (seen.has(value) ? [index] : (seen.add(value), [])));
}
