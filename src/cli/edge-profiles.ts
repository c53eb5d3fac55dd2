// --edge and --ca for a hostname: from the flags when given (and remembered after a success), else
// from the profile a earlier success wrote (src/core/profiles.ts).
import {
  profileFor,
  profileFromFlags,
  readProfiles,
  remember,
  rememberedEdges,
  writeProfiles,
  type Profile,
} from '../core/profiles.js';
import { AirlockError } from '../shared/errors.js';
import type { EdgeTargetOptions } from '../core/edge-target.js';

interface TargetFlags {
  edge?: string | undefined;
  ca?: string | undefined;
}

export async function targetOptions(hostname: string, values: TargetFlags): Promise<EdgeTargetOptions> {
  const profile: Profile | undefined =
    values.edge || values.ca ? profileFromFlags(values) : profileFor(await readProfiles(), hostname);
  return {
    hostname,
    ...(profile?.edge ? { edge: profile.edge } : {}),
    ...(profile?.ca ? { caFile: profile.ca } : {}),
  };
}

/** After the edge accepted us: remember the flags given for hostname (nothing to remember without them). */
export async function rememberTarget(hostname: string, values: TargetFlags): Promise<void> {
  if (!values.edge && !values.ca) return;
  await writeProfiles(remember(await readProfiles(), hostname, profileFromFlags(values)));
}

/**
 * The edge (and CA) for a command addressed to an edge, not an app (`access list`): --edge as
 * given, with the CA remembered for that edge unless --ca is given; else the edge remembered for
 * --hostname; else the only edge remembered. Several edges and no flag: the user picks one.
 */
export async function edgeOptions(
  values: TargetFlags & { hostname?: string | undefined },
): Promise<Profile & { edge: string }> {
  const profiles = await readProfiles();
  const edges = rememberedEdges(profiles);
  if (values.edge) {
    const origin = new URL(values.edge).origin;
    const ca = values.ca
      ? profileFromFlags(values).ca
      : edges.find((known) => new URL(known.edge).origin === origin)?.ca;
    return { edge: values.edge, ...(ca ? { ca } : {}) };
  }
  if (values.hostname) {
    const profile = profileFor(profiles, values.hostname.toLowerCase());
    if (!profile?.edge)
      throw new AirlockError(
        'BAD_ARGUMENT',
        `no edge is remembered for ${values.hostname}: pass --edge URL (and --ca FILE) once; it is remembered after a success`,
      );
    return { ...profile, edge: profile.edge, ...(values.ca ? { ca: profileFromFlags(values).ca! } : {}) };
  }
  if (edges.length === 1) return { ...edges[0]!, ...(values.ca ? { ca: profileFromFlags(values).ca! } : {}) };
  if (edges.length === 0)
    throw new AirlockError(
      'BAD_ARGUMENT',
      'no edge is remembered yet: pass --edge URL (and --ca FILE) once, or sign in with `airlock access login HOST --edge URL` first',
    );
  throw new AirlockError(
    'BAD_ARGUMENT',
    `several edges are remembered (${edges.map((known) => new URL(known.edge).origin).join(', ')}): pass --edge URL or --hostname HOST`,
  );
}

/** After an edge listed its apps: each of them is reached through that edge (and CA) from now on. */
export async function rememberApps(hostnames: readonly string[], profile: Profile): Promise<void> {
  if (hostnames.length === 0) return;
  let profiles = await readProfiles();
  for (const hostname of hostnames) profiles = remember(profiles, hostname.toLowerCase(), profile);
  await writeProfiles(profiles);
}
