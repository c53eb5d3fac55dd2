// `airlock idp --users users.yaml [--port 9000] [--client-id ID --client-secret S --redirect-uri URL]`
// runs the built-in development IdP until SIGINT/SIGTERM. `airlock idp --hash-password` reads a
// password on stdin and prints the scrypt hash for users.yaml.
//
// Integration (src/cli, written by the lead): `case 'idp': return runIdpCommand(argv.slice(1));`
// Resolves when the IdP has stopped; throws AirlockError (BAD_ARGUMENT / CONFIG_INVALID → exit 2).
import { parseArgs } from 'node:util';
import { readSecret } from '../shared/secret-flags.js';
import { AirlockError } from '../shared/errors.js';
import { isValidPort } from '../shared/host.js';
import { startIdp, type RunningIdp } from './provider.js';
import { hashPassword, loadUsersFile, type IdpClient } from './users.js';

export const IDP_USAGE = `usage: airlock idp --users FILE [--port PORT] [--host 127.0.0.1]
                  [--client-id ID --client-secret-file FILE --redirect-uri URL ...]
       airlock idp --hash-password < password.txt

Runs a development OpenID Connect provider (plain http on the loopback interface).
Production edges point at the organisation's IdP instead: see docs/sso.md.`;

export interface IdpCommandIo {
  print: (line: string) => void;
  /** Resolves when the command should stop; default: the first SIGINT or SIGTERM. */
  stopSignal?: Promise<void>;
  /** Called once the IdP listens (tests and the demo use it to learn the issuer). */
  onReady?: (idp: RunningIdp) => void;
  readStdin?: () => Promise<string>;
}

export async function runIdpCommand(
  argv: string[],
  io: IdpCommandIo = { print: (line) => console.log(line) },
): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        users: { type: 'string' },
        port: { type: 'string', default: '9000' },
        host: { type: 'string', default: '127.0.0.1' },
        'client-id': { type: 'string' },
        'client-secret': { type: 'string' },
        'client-secret-file': { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        'hash-password': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new AirlockError('BAD_ARGUMENT', `${(error as Error).message}\n${IDP_USAGE}`);
  }
  if (values.help) {
    io.print(IDP_USAGE);
    return;
  }
  if (values['hash-password']) {
    const password = (await (io.readStdin ?? readStdin)()).replace(/\r?\n$/, '');
    if (!password) throw new AirlockError('BAD_ARGUMENT', 'no password on stdin');
    io.print(await hashPassword(password));
    return;
  }
  if (!values.users) throw new AirlockError('BAD_ARGUMENT', `--users FILE is required\n${IDP_USAGE}`);
  const port = Number(values.port);
  if (!(port === 0 || isValidPort(port)))
    throw new AirlockError('BAD_ARGUMENT', `--port "${values.port}" is not a port number`);

  const { users, clients } = await loadUsersFile(values.users);
  const clientSecret = readSecret(
    {
      flag: '--client-secret',
      flagValue: values['client-secret'],
      fileValue: values['client-secret-file'],
      env: 'AIRLOCK_IDP_CLIENT_SECRET',
    },
    io.print,
  );
  const flagClient = clientFromFlags(values['client-id'], clientSecret, values['redirect-uri']);
  const idp = await startIdp({
    users,
    clients: flagClient ? [...clients, flagClient] : clients,
    port,
    host: values.host,
    log: (message) => io.print(message),
  });
  io.print(
    `airlock dev IdP: issuer ${idp.issuer} (${users.length} user${users.length === 1 ? '' : 's'}); for development only`,
  );
  io.onReady?.(idp);
  await (io.stopSignal ?? untilSignal());
  await idp.close();
  io.print('airlock dev IdP stopped');
}

function clientFromFlags(
  clientId: string | undefined,
  clientSecret: string | undefined,
  redirectUris: string[] | undefined,
): IdpClient | undefined {
  if (clientId === undefined && clientSecret === undefined && redirectUris === undefined) return undefined;
  if (!clientId || !clientSecret || !redirectUris?.length) {
    throw new AirlockError('BAD_ARGUMENT', '--client-id, --client-secret and at least one --redirect-uri go together');
  }
  for (const uri of redirectUris) {
    if (!URL.canParse(uri)) throw new AirlockError('BAD_ARGUMENT', `--redirect-uri "${uri}" is not a URL`);
  }
  return { clientId, clientSecret, redirectUris };
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
