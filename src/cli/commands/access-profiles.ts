// `airlock access profiles`: the edges remembered per application and domain, and forgetting them.
import { defaultProfileFile, forget, readProfiles, writeProfiles } from '../../core/profiles.js';
import { AirlockError } from '../../shared/errors.js';
import { parse, say, showUsage } from '../args.js';

const USAGE = `usage: airlock access profiles [--forget HOST | --forget-all]

Lists the edge URL and CA remembered for each application (and its domain) after a successful
\`access login\`, \`access tcp\` or \`access ssh\` with --edge or --ca, and for every app an
\`access list\` showed; later commands for that host (or another app of its domain) need only
the hostname. Tokens are not listed.
  --forget HOST   forget HOST (its domain too, unless another app of it is remembered)
  --forget-all    forget every profile`;

export async function accessProfiles(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { forget: { type: 'string' }, 'forget-all': { type: 'boolean' } }, USAGE);
  if (values.help) return showUsage(USAGE);
  if (positionals.length > 0) throw new AirlockError('BAD_ARGUMENT', `unexpected "${positionals[0]}"\n\n${USAGE}`);
  const file = defaultProfileFile();
  const profiles = await readProfiles(file);
  if (values['forget-all'] || values.forget !== undefined) {
    const host = values.forget?.toLowerCase();
    if (host !== undefined && !profiles.apps[host])
      throw new AirlockError('BAD_ARGUMENT', `no profile for ${host} (see \`airlock access profiles\`)`);
    await writeProfiles(forget(profiles, host), file);
    say(host ? `Forgot the edge of ${host}.` : 'Forgot every profile.');
    return;
  }
  const rows = [
    ...Object.entries(profiles.apps).map(([host, profile]) => ({ name: host, ...profile })),
    ...Object.entries(profiles.domains).map(([domain, profile]) => ({ name: `*.${domain}`, ...profile })),
  ];
  if (rows.length === 0) {
    say(`No profiles yet (${file}): the first access login/tcp/ssh with --edge remembers one.`);
    return;
  }
  for (const row of rows)
    process.stdout.write(`${row.name}  edge ${row.edge ?? 'https://HOST:443'}${row.ca ? `  ca ${row.ca}` : ''}\n`);
  say(`(${file})`);
}
