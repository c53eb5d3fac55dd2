// Discovery on the client: the apps an edge lists for this user's organisation session (or a
// service token), from GET /cdn-cgi/access/apps on the edge's sign-in origin.
import { HEADER, PATH } from '../shared/constants.js';
import { AirlockError } from '../shared/errors.js';
import { edgeRequest, type EdgeDial } from './edge-http.js';
import type { DiscoveredApp } from '../shared/contract/api.js';

export type { DiscoveredApp };

export async function listApps(
  dial: EdgeDial,
  signInOrigin: string,
  credential: { organisationToken: string } | { serviceToken: { id: string; secret: string } },
): Promise<DiscoveredApp[]> {
  const headers: Record<string, string> =
    'organisationToken' in credential
      ? { [HEADER.accessToken]: credential.organisationToken }
      : { [HEADER.clientId]: credential.serviceToken.id, [HEADER.clientSecret]: credential.serviceToken.secret };
  const answer = await edgeRequest(dial, new URL(PATH.apps, signInOrigin), {
    headers: { ...headers, accept: 'application/json' },
  });
  let body: { apps?: unknown; message?: unknown };
  try {
    body = JSON.parse(answer.body) as typeof body;
  } catch {
    throw new AirlockError(
      'EDGE_ERROR',
      `${signInOrigin} answered the app list with HTTP ${answer.status} and no JSON; is it an Airlock edge with discovery?`,
    );
  }
  if (answer.status === 401)
    throw new AirlockError(
      'AUTH_REQUIRED',
      typeof body.message === 'string' ? body.message : 'sign in to this edge first',
    );
  if (answer.status !== 200 || !Array.isArray(body.apps))
    throw new AirlockError(
      'EDGE_ERROR',
      `${signInOrigin} answered the app list with HTTP ${answer.status}${typeof body.message === 'string' ? `: ${body.message}` : ''}`,
    );
  return body.apps.filter(
    (entry): entry is DiscoveredApp =>
      typeof entry === 'object' && entry !== null && typeof (entry as DiscoveredApp).hostname === 'string',
  );
}
