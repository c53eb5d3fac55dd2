// Which edge an operator command talks to, and with what: --edge (or the only edge logged in
// to), the operator credential saved by `airlock tunnel login`, and the CA to trust.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AirlockError } from '../../shared/errors.js';
import type { AdminTarget } from './admin-client.js';
import { listCredentials, loadCredential, type OperatorCredential } from './operator-files.js';

/** The options every operator command takes. */
export const TARGET = { edge: { type: 'string' }, ca: { type: 'string' } } as const;

export function edgeOrigin(edge: string): string {
  let url: URL;
  try {
    url = new URL(edge);
  } catch {
    throw new AirlockError('BAD_ARGUMENT', `--edge "${edge}" is not a URL (expected e.g. https://edge.example.com)`);
  }
  if (url.protocol !== 'https:')
    throw new AirlockError('BAD_ARGUMENT', `--edge must be an https:// URL, got "${edge}"`);
  return url.origin;
}

export function readCa(file: string | undefined): Buffer | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    throw new AirlockError('BAD_ARGUMENT', `cannot read --ca ${file}: ${(error as Error).message}`);
  }
}

export const loginAgain = (edge: string) => `run \`airlock tunnel login --edge ${edge}\``;

/** The edge to talk to and the credential for it: --edge, or the only edge logged in to. */
export async function operatorTarget(values: {
  edge?: string;
  ca?: string;
}): Promise<AdminTarget & { credential: OperatorCredential; caFile?: string }> {
  let edge = values.edge ? edgeOrigin(values.edge) : undefined;
  if (!edge) {
    const known = await listCredentials();
    if (known.length === 0)
      throw new AirlockError(
        'AUTH_REQUIRED',
        'not logged in to any edge: run `airlock tunnel login --edge https://EDGE` first',
      );
    if (known.length > 1)
      throw new AirlockError(
        'BAD_ARGUMENT',
        `logged in to several edges (${known.map((c) => c.edge).join(', ')}): pass --edge URL`,
      );
    edge = known[0]!.edge;
  }
  const credential = await loadCredential(edge);
  if (!credential) throw new AirlockError('AUTH_REQUIRED', `not logged in to ${edge}: ${loginAgain(edge)} first`);
  if (Date.parse(credential.expiresAt) <= Date.now()) {
    throw new AirlockError(
      'AUTH_REQUIRED',
      `the operator credential for ${edge} expired at ${credential.expiresAt}; ${loginAgain(edge)} again`,
    );
  }
  const caFile = values.ca ? resolve(values.ca) : credential.caFile;
  const ca = readCa(caFile);
  return {
    edgeOrigin: edge,
    token: credential.token,
    credential,
    ...(ca ? { ca } : {}),
    ...(caFile ? { caFile } : {}),
  };
}
