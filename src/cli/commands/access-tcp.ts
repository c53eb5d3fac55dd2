// `airlock access tcp`: a local listener whose connections are tunnelled to a hostname on the edge.
import { firstFreePort } from '../../core/free-port.js';
import { checkAccess } from '../../core/tunnel-dial.js';
import { listApps } from '../../core/app-list.js';
import { ORGANISATION_ACCOUNT } from '../../core/organisation-session.js';
import type { EdgeTarget } from '../../core/edge-target.js';
import { credentialHeaders, parseHeaderArgument, type Credential } from '../../core/credentials.js';
import { resolveEdgeTarget } from '../../core/edge-target.js';
import { LocalListener, type LocalListenerOptions } from '../../core/local-listener.js';
import { createAppSession, type AppSession } from '../../core/sign-in.js';
import { openSystemBrowser } from '../browser.js';
import { cliTokenStore, describeSignIn } from '../token-output.js';
import { DEFAULTS } from '../../shared/constants.js';
import { formatBytes, parseDuration } from '../../shared/contract/duration.js';
import { AirlockError, isAirlockError, type AirlockErrorCode } from '../../shared/errors.js';
import { formatHostPort, isLoopbackHost, parseHostPort, type HostPort } from '../../shared/host.js';
import { readSecret } from '../../shared/secret-flags.js';
import { rememberTarget, targetOptions } from '../edge-profiles.js';
import { onShutdown, parse, required, say, showUsage } from '../args.js';

const USAGE = `usage: airlock access tcp --hostname HOST [--url [127.0.0.1:]PORT] [options]

  --hostname HOST               the application's hostname on the edge
  --url [ADDRESS:]PORT          where to listen locally (127.0.0.1 unless an address is given);
                                without it, the port the edge suggests for HOST, or the next free one
  --edge URL                    dial this edge instead of https://HOST:443; remembered for HOST
                                (and its domain) once it works: later runs need only --hostname
  --ca FILE                     trust this CA for the edge (or set NODE_EXTRA_CA_CERTS); remembered too
  --service-token-id ID         service token (or AIRLOCK_SERVICE_TOKEN_ID)
  --service-token-secret-file F its secret, from a 0600 file (or AIRLOCK_SERVICE_TOKEN_SECRET);
                                --service-token-secret SECRET works but shows in ps
  --token-file FILE             an app token obtained elsewhere, from a 0600 file (or AIRLOCK_TOKEN);
                                --token JWT works but shows in ps
  --allow-remote                let --url listen on a non-loopback address: anyone who reaches it
                                uses the tunnel with your credential
  --header 'Name: value'        extra request header, repeatable
  --wait-for-sign-in DURATION   when a sign-in is needed later (e.g. after logout), hold each new
                                connection up to DURATION while it happens; without it the
                                connection is refused at once and the sign-in URL printed
  --no-resume                   do not ask for resumable streams: a connection ends (reset) when
                                its tunnel breaks, instead of waiting for the edge to come back
                                (the edge's window, 60 s by default) and carrying on with no byte lost

Without a service token or --token, the first connection signs in through the browser
(single sign-on) and the token is kept in the OS keychain for the next ones.`;

export const accessTcpOptions = {
  hostname: { type: 'string' },
  url: { type: 'string' },
  edge: { type: 'string' },
  ca: { type: 'string' },
  'service-token-id': { type: 'string' },
  'service-token-secret': { type: 'string' },
  'service-token-secret-file': { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  'allow-remote': { type: 'boolean' },
  header: { type: 'string', multiple: true },
  'wait-for-sign-in': { type: 'string' },
  'no-resume': { type: 'boolean' },
} as const;

export function parseLocalAddress(text: string): { host: string; port: number } {
  const local = /^\d+$/.test(text)
    ? parseHostPort(`${DEFAULTS.localHost}:${text}`)
    : parseHostPort(text.replace(/^tcp:\/\//, ''));
  if (!local)
    throw new AirlockError(
      'BAD_ARGUMENT',
      `--url "${text}" is not ADDRESS:PORT with a port from 1 to 65535 (e.g. 127.0.0.1:2222)`,
    );
  return local;
}

export function credentialFromFlags(
  values: Record<string, unknown>,
  warn: (message: string) => void = say,
): Credential {
  const id = (values['service-token-id'] as string | undefined) ?? process.env.AIRLOCK_SERVICE_TOKEN_ID;
  const secret = readSecret(
    {
      flag: '--service-token-secret',
      flagValue: values['service-token-secret'] as string | undefined,
      fileValue: values['service-token-secret-file'] as string | undefined,
      env: 'AIRLOCK_SERVICE_TOKEN_SECRET',
    },
    warn,
  );
  if (id || secret) {
    if (!id || !secret)
      throw new AirlockError(
        'BAD_ARGUMENT',
        'a service token needs both --service-token-id and --service-token-secret',
      );
    return { kind: 'service-token', id, secret };
  }
  const token = readSecret(
    {
      flag: '--token',
      flagValue: values.token as string | undefined,
      fileValue: values['token-file'] as string | undefined,
      env: 'AIRLOCK_TOKEN',
    },
    warn,
  );
  return token ? { kind: 'app-token', token } : { kind: 'none' };
}

/** What the edge's HEADER.tokenRefused says, as the end of a sentence. */
const TOKEN_REFUSALS: Record<string, string> = {
  TOKEN_EXPIRED: 'it has expired',
  TOKEN_REVOKED: 'its session was signed out (revoked at the edge)',
  TOKEN_INVALID: 'it is malformed, forged, or for another application or edge',
};

/** Turns a refusal at start-up into the sentence a user needs. */
export function explainRefusal(error: unknown, credential: Credential, hostname: string): AirlockError {
  if (!isAirlockError(error) || error.code !== 'AUTH_REQUIRED') return error as AirlockError;
  if (credential.kind === 'service-token') {
    return new AirlockError(
      'AUTH_REQUIRED',
      `the edge refused service token "${credential.id}" for ${hostname}: its id or secret is wrong, or it was revoked`,
    );
  }
  if (credential.kind === 'app-token') {
    const why = TOKEN_REFUSALS[String(error.details.tokenRefused)];
    return new AirlockError(
      why ? (error.details.tokenRefused as AirlockErrorCode) : 'AUTH_REQUIRED',
      `the edge refused the app token for ${hostname}: ${why ?? 'it is expired, revoked or for another application'}; sign in again`,
    );
  }
  return new AirlockError('AUTH_REQUIRED', `${hostname} requires sign-in: run \`airlock access login ${hostname}\``);
}

export async function accessTcp(argv: string[]): Promise<void> {
  const { values } = parse(argv, accessTcpOptions, USAGE);
  if (values.help) return showUsage(USAGE);
  const hostname = required(values.hostname, '--hostname', USAGE).toLowerCase();
  const explicit = values.url ? parseLocalAddress(values.url) : undefined;
  if (explicit && !isLoopbackHost(explicit.host)) {
    const local = explicit;
    // A listener on the network is a bearer tunnel: anyone who reaches it rides this credential.
    if (!values['allow-remote']) {
      throw new AirlockError(
        'BAD_ARGUMENT',
        `--url ${formatHostPort(local)} listens beyond this machine: anyone who can reach it would use the tunnel as you. Listen on 127.0.0.1, or pass --allow-remote if that is what you want.`,
      );
    }
    say(
      `airlock: warning: [LISTENER_EXPOSED] listening on ${formatHostPort(local)}; every host that reaches it uses ${hostname} with your credential.`,
    );
  }
  const target = resolveEdgeTarget(await targetOptions(hostname, values));
  const credential = credentialFromFlags(values);
  const headers = Object.fromEntries((values.header ?? []).map(parseHeaderArgument));
  const waitMs = values['wait-for-sign-in'] === undefined ? undefined : parseDuration(values['wait-for-sign-in']);
  if (values['wait-for-sign-in'] !== undefined && !waitMs)
    throw new AirlockError(
      'BAD_ARGUMENT',
      `--wait-for-sign-in "${values['wait-for-sign-in']}" is not a duration like 2m`,
    );

  const session =
    credential.kind === 'none'
      ? createAppSession({
          target,
          store: cliTokenStore(),
          openBrowser: openSystemBrowser,
          print: say,
          headers,
          ...(waitMs ? { loginTimeoutMs: waitMs } : {}),
        })
      : undefined;
  const listenerAuth: Pick<LocalListenerOptions, 'credential' | 'onAuthRequired'> = session
    ? {
        credential: () => session.credential(),
        onAuthRequired: waitMs
          ? (error) => session.onAuthRequired(error)
          : (error) => {
              if (startingUp)
                throw new AirlockError(
                  'AUTH_REQUIRED',
                  `the sign-in to ${hostname} is still under way (its URL is above): connect again once it is done`,
                );
              return refuseUntilSignedIn(session, hostname, error);
            },
      }
    : { credential: async () => credential };
  const listenerFor = (local: HostPort) => {
    const listener = new LocalListener({ target, local, headers, resume: !values['no-resume'], ...listenerAuth });
    listener.on('event', (event) => {
      if (event.type === 'connection-opened') say(`connection ${event.id} from ${event.remote}`);
      if (event.type === 'connection-reconnecting') say(`connection ${event.id} reconnecting (its tunnel broke)`);
      if (event.type === 'connection-resumed') say(`connection ${event.id} resumed`);
      if (event.type === 'connection-closed') {
        const how = event.error ? `failed: [${event.error.code}] ${event.error.message}` : 'closed';
        say(
          `connection ${event.id} ${how} (sent ${formatBytes(event.bytesUp)}, received ${formatBytes(event.bytesDown)}, ${(event.durationMs / 1000).toFixed(1)} s)`,
        );
      }
    });
    return listener;
  };

  // A busy port is found before anyone is sent through the browser.
  let startingUp = true;
  let listener = explicit ? listenerFor(explicit) : undefined;
  await listener?.start();
  let signInOrigin: string | undefined;
  try {
    if (session) {
      // Single sign-on now, while the user watches, so the first connection is instant.
      const token = await session.ensureSignedIn();
      say(describeSignIn(hostname, token, session));
      signInOrigin = session.signInOrigin();
    } else await checkAccess({ target, headers: { ...headers, ...credentialHeaders(credential) } });
  } catch (error) {
    // An offline service is reported per connection (it may come back); anything else stops here.
    if (!isAirlockError(error) || error.code !== 'NO_CONNECTOR') {
      await listener?.stop();
      throw session ? error : explainRefusal(error, credential, hostname);
    }
    say(`airlock: warning: [NO_CONNECTOR] ${error.message}; listening anyway, each connection fails until it is back`);
  }
  startingUp = false;
  await rememberTarget(hostname, values);
  listener ??= listenerFor(await suggestedLocal(target, hostname, credential, signInOrigin));
  const address = listener.address() ?? (await listener.start());
  // The handler is in place before the ready line: whoever reads that line may signal at once.
  onShutdown(async () => {
    say('stopping');
    await listener.stop();
  });
  say(`Listening on ${address} → ${hostname} via ${target.edgeOrigin}. Press Ctrl-C to stop.`);
}

/**
 * A program's connection never waits on a sign-in no one may be watching: it is refused at once
 * (reset) with the URL, while the sign-in runs in the background for the next connection.
 */
async function refuseUntilSignedIn(session: AppSession, hostname: string, error: AirlockError): Promise<void> {
  const outcome = await session.signInWithoutWaiting(error);
  if (outcome.signedIn) return;
  throw new AirlockError(
    'AUTH_REQUIRED',
    `${hostname} needs a sign-in, so this connection was refused rather than held (--wait-for-sign-in 2m holds connections instead); sign in at ${outcome.url} and connect again`,
    { loginUrl: outcome.url },
  );
}

/**
 * No --url: the local port the edge suggests for this app (discovery's apps[].display.localPort),
 * or the next free one after it; any free port when the edge suggests none.
 */
async function suggestedLocal(
  target: EdgeTarget,
  hostname: string,
  credential: Credential,
  signInOrigin: string | undefined,
): Promise<HostPort> {
  let suggested: number | undefined;
  try {
    const origin = signInOrigin ?? target.edgeOrigin;
    const session = credential.kind === 'none' ? await cliTokenStore().get(origin, ORGANISATION_ACCOUNT) : undefined;
    const apps =
      credential.kind === 'service-token'
        ? await listApps(target, origin, { serviceToken: credential })
        : session
          ? await listApps(target, origin, { organisationToken: session })
          : [];
    suggested = apps.find((app) => app.hostname === hostname)?.localPort;
  } catch {
    // An edge without discovery (or a refusal) only means no suggestion.
  }
  const port = suggested ? await firstFreePort(suggested) : 0;
  if (suggested && port !== suggested)
    say(
      `airlock: warning: [PORT_IN_USE] port ${suggested}, which the edge suggests for ${hostname}, is in use; using ${port}`,
    );
  return { host: DEFAULTS.localHost, port };
}
