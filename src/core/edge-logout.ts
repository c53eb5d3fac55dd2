// `airlock access logout`: ask the edge to revoke the session of a stored token (its sid goes on
// the edge's revocation list), so a copy of the token left anywhere stops working too.
//
// Integration (CLI): const token = await store.get(edgeOrigin, aud);
//   if (token) await revokeAtEdge({ edgeOrigin, token, ca });   // then store.delete(edgeOrigin, aud)
// Resolves true when the edge revoked a live session, false when it was already dead; rejects with
// STORE_UNAVAILABLE when the edge could not record it (nothing was revoked).
import { HEADER, PATH } from '../shared/constants.js';
import { AirlockError } from '../shared/errors.js';
import { dialByName, edgeRequest, type EdgeDial } from './edge-http.js';

export interface RevokeOptions {
  edgeOrigin: string;
  token: string;
  ca?: Buffer | string;
  /** The resource's edge target (its --edge address); else the origin is dialled by name. */
  dial?: EdgeDial;
}

export async function revokeAtEdge({ edgeOrigin, token, ca, dial }: RevokeOptions): Promise<boolean> {
  const response = await edgeRequest(dial ?? dialByName(ca), new URL(PATH.logout, edgeOrigin), {
    method: 'POST',
    headers: { [HEADER.accessToken]: token, accept: 'application/json' },
    body: '',
  });
  try {
    const answer = JSON.parse(response.body) as { signed_out?: unknown; error?: unknown; message?: unknown };
    if (response.status === 200 && typeof answer.signed_out === 'boolean') return answer.signed_out;
    // Nothing was revoked: the caller keeps the token so the sign-out can be tried again.
    if (answer.error === 'sign_out_not_recorded')
      throw new AirlockError('STORE_UNAVAILABLE', `the edge did not record the sign-out: ${String(answer.message)}`);
  } catch (error) {
    if (error instanceof AirlockError) throw error;
    // reported below
  }
  throw new AirlockError('EDGE_ERROR', `the edge answered the sign-out with HTTP ${response.status}`);
}
