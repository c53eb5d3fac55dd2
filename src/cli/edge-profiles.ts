// --edge and --ca for a hostname: from the flags when given (and remembered after a success), else
// from the profile a earlier success wrote (src/core/profiles.ts).
import { profileFor, profileFromFlags, readProfiles, remember, writeProfiles, type Profile } from '../core/profiles.js';
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
