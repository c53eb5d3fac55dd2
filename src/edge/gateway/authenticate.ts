// Who is this request from? Service token headers, or an app token (header, assertion or cookie).
// App tokens are verified by an injected verifier (src/edge/app-token.ts) so this stays pure.
import type { IncomingHttpHeaders } from 'node:http';
import { AUTH_COOKIE, HEADER } from '../../shared/constants.js';
import type { Principal } from './identity.js';
import { isAirlockError } from '../../shared/errors.js';
import { secretMatches } from '../../shared/secrets.js';
import type { AppConfig, EdgeConfig } from '../config/config.js';
import { readCookie } from '../http/http-cookies.js';

export type Authentication =
  | { outcome: 'authenticated'; principal: Principal }
  /** Credentials were presented but are not good: the audit log records why; code for app tokens (TOKEN_*). */
  | { outcome: 'rejected'; reason: string; who: string; code?: string }
  | { outcome: 'anonymous' };

export type AppTokenVerifier = (token: string, app: AppConfig) => Promise<Principal>;

export async function authenticate(
  headers: IncomingHttpHeaders,
  app: AppConfig,
  config: Pick<EdgeConfig, 'serviceTokens'>,
  verifyAppToken?: AppTokenVerifier,
): Promise<Authentication> {
  const clientId = single(headers[HEADER.clientId]);
  const clientSecret = single(headers[HEADER.clientSecret]);
  if (clientId !== undefined || clientSecret !== undefined) {
    const who = `service-token:${(clientId ?? '').slice(0, 128)}`;
    if (!clientId || !clientSecret) return { outcome: 'rejected', reason: 'service token id or secret missing', who };
    const stored = config.serviceTokens.get(clientId);
    if (!stored) return { outcome: 'rejected', reason: 'unknown service token id', who };
    if (!secretMatches(clientSecret, stored.secretHash))
      return { outcome: 'rejected', reason: 'service token secret does not match', who };
    return { outcome: 'authenticated', principal: { kind: 'service-token', id: clientId } };
  }

  const token =
    single(headers[HEADER.accessToken]) ?? single(headers[HEADER.jwtAssertion]) ?? readCookie(headers, AUTH_COOKIE);
  if (token === undefined) return { outcome: 'anonymous' };
  if (!verifyAppToken)
    return {
      outcome: 'rejected',
      reason: 'app tokens are not enabled on this edge (no idp configured)',
      who: 'app-token',
    };
  try {
    return { outcome: 'authenticated', principal: await verifyAppToken(token, app) };
  } catch (error) {
    return {
      outcome: 'rejected',
      reason: `app token rejected: ${(error as Error).message}`,
      who: 'app-token',
      code: isAirlockError(error) ? error.code : 'TOKEN_INVALID',
    };
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
