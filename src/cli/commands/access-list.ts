// `airlock access list --edge URL`: the apps this edge lets you reach, after one sign-in.
import { listApps, type DiscoveredApp } from '../../core/app-list.js';
import { resolveEdgeTarget } from '../../core/edge-target.js';
import { ORGANISATION_ACCOUNT } from '../../core/organisation-session.js';
import { dialHostOfUrl } from '../../shared/host.js';
import { AirlockError } from '../../shared/errors.js';
import { readSecret } from '../../shared/secret-flags.js';
import { parse, say, showUsage } from '../args.js';
import { edgeOptions, rememberApps } from '../edge-profiles.js';
import { cliTokenStore } from '../token-output.js';

const USAGE = `usage: airlock access list [--edge URL] [--ca FILE] [--hostname HOST] [--json]

Lists the applications the edge lets you reach, with their kind and suggested local port. URL is
the edge's sign-in address (its publicUrl). Uses the session of your last sign-in to that edge
(\`airlock access login HOST\` for any of its apps), or a service token from
AIRLOCK_SERVICE_TOKEN_ID and AIRLOCK_SERVICE_TOKEN_SECRET (or --service-token-secret-file).
Without --edge: the edge remembered for --hostname HOST, or the only edge remembered (see
\`airlock access profiles\`). The apps listed are remembered with that edge and CA, so
\`airlock access tcp --hostname APP\` needs no --edge afterwards.`;

export async function accessList(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    {
      edge: { type: 'string' },
      ca: { type: 'string' },
      hostname: { type: 'string' },
      json: { type: 'boolean' },
      'service-token-secret-file': { type: 'string' },
    },
    USAGE,
  );
  if (values.help) return showUsage(USAGE);
  const profile = await edgeOptions(values);
  const edge = profile.edge;
  const target = resolveEdgeTarget({
    hostname: dialHostOfUrl(new URL(edge)),
    edge,
    ...(profile.ca ? { caFile: profile.ca } : {}),
  });
  const origin = new URL(edge).origin;
  const id = process.env.AIRLOCK_SERVICE_TOKEN_ID;
  const secret = readSecret(
    {
      flag: '--service-token-secret',
      flagValue: undefined,
      fileValue: values['service-token-secret-file'],
      env: 'AIRLOCK_SERVICE_TOKEN_SECRET',
    },
    say,
  );
  const session = id && secret ? undefined : await cliTokenStore().get(origin, ORGANISATION_ACCOUNT);
  if (!(id && secret) && !session) {
    throw new AirlockError(
      'AUTH_REQUIRED',
      `not signed in to ${origin}: run \`airlock access login HOST\` for any app of that edge first (one browser sign-in serves them all)`,
    );
  }
  const apps = await listApps(
    target,
    origin,
    id && secret ? { serviceToken: { id, secret } } : { organisationToken: session! },
  );
  await rememberApps(
    apps.map((app) => app.hostname),
    profile,
  );
  if (values.json) return void process.stdout.write(`${JSON.stringify(apps, null, 2)}\n`);
  process.stdout.write(table(apps));
}

/** Columns sized to their contents: hostnames stay whole. */
export function table(apps: DiscoveredApp[]): string {
  if (apps.length === 0) return 'No applications: this edge lets you reach none from here.\n';
  const rows = [
    ['HOSTNAME', 'NAME', 'KIND', 'PORT'],
    ...apps.map((app) => [app.hostname, app.name ?? '', app.kind ?? '', app.localPort ? String(app.localPort) : '']),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return (
    rows
      .map((row) =>
        row
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
