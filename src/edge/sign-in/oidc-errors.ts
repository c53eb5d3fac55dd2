// What the identity provider said, in its own words: an OAuth error (`error`, `error_description`,
// RFC 6749 §4.1.2.1 and §5.2) becomes an AirlockError whose message quotes it, instead of the
// relying-party library's generic sentence. Network failures become IDP_UNREACHABLE.
import * as client from 'openid-client';
import { AirlockError, type AirlockErrorCode } from '../../shared/errors.js';

/** An OAuth error as the provider sent it; both fields are provider text, shown escaped, never trusted. */
export interface ProviderError {
  error: string;
  description?: string;
}

/** The provider refused at its authorization endpoint: the error came back on the callback URL. */
export function authorizationError(callbackUrl: URL): AirlockError | undefined {
  const error = callbackUrl.searchParams.get('error');
  if (!error) return undefined;
  const description = callbackUrl.searchParams.get('error_description') ?? undefined;
  return new AirlockError(
    'IDP_REFUSED',
    `the identity provider refused the sign-in: ${quote({ error, ...(description ? { description } : {}) })}`,
    { error, ...(description ? { description } : {}) },
  );
}

/**
 * A failed request to the token or userinfo endpoint. `invalid_client` and `unauthorized_client`
 * are the operator's to fix (client id, secret, idp.tokenEndpointAuthMethod); the rest the user
 * may retry.
 */
export async function endpointError(
  error: unknown,
  endpoint: 'token' | 'userinfo',
  issuer: string,
): Promise<AirlockError> {
  if (isNetworkError(error)) return unreachable(issuer, error);
  const said = await providerErrorOf(error);
  if (said) {
    const operators = said.error === 'invalid_client' || said.error === 'unauthorized_client';
    const code: AirlockErrorCode = operators ? 'IDP_CLIENT_REFUSED' : 'IDP_REFUSED';
    const advice = operators
      ? '; check idp.clientId, idp.clientSecret and idp.tokenEndpointAuthMethod in edge.yaml against the client registered at the identity provider'
      : '; start again';
    return new AirlockError(
      code,
      `the identity provider's ${endpoint} endpoint refused the sign-in: ${quote(said)}${advice}`,
      {
        error: said.error,
        ...(said.description ? { description: said.description } : {}),
      },
    );
  }
  // A check of ours failed (state, nonce, PKCE, ID token claims): openid-client names it in cause.
  const cause = (error as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? cause.message : (error as Error).message;
  return new AirlockError('LOGIN_FAILED', `sign-in could not be completed: ${detail}; start again`);
}

/** The `error` and `error_description` in a JSON body or in a WWW-Authenticate challenge (RFC 6750 §3). */
async function providerErrorOf(error: unknown): Promise<ProviderError | undefined> {
  if (error instanceof client.ResponseBodyError || error instanceof client.AuthorizationResponseError)
    return withDescription(error.error, error.error_description);
  if (error instanceof client.WWWAuthenticateChallengeError) {
    for (const challenge of error.cause) {
      const said = challenge.parameters.error;
      if (said) return withDescription(said, challenge.parameters.error_description);
    }
    // A bare `Basic realm=…` challenge: the JSON body, if any, says why.
    const body = await jsonBody(error.response);
    if (body && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string') {
      const { error: said, error_description: description } = body as { error: string; error_description?: unknown };
      return withDescription(said, typeof description === 'string' ? description : undefined);
    }
    return { error: error.status === 401 ? 'invalid_client' : `HTTP ${error.status}` };
  }
  return undefined;
}

async function jsonBody(response: Response): Promise<unknown> {
  try {
    return await response.clone().json();
  } catch {
    return undefined; // no body, not JSON, or already read
  }
}

function withDescription(error: string, description: string | undefined): ProviderError {
  return description ? { error, description } : { error };
}

function quote(said: ProviderError): string {
  // Provider text is bounded so a hostile provider cannot fill the page or the log line.
  const description = said.description ? ` (${said.description.slice(0, 300)})` : '';
  return `${said.error.slice(0, 100)}${description}`;
}

export function isNetworkError(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string; name?: string } }).cause;
  return (
    (error instanceof TypeError && error.message === 'fetch failed') ||
    // openid-client wraps a request that ran out of time (idp-requests.ts) in its own error.
    cause?.name === 'TimeoutError' ||
    ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN'].includes(cause?.code ?? '') ||
    (error as Error).name === 'TimeoutError' ||
    (error as Error).name === 'AbortError'
  );
}

export function unreachable(issuer: string, error: unknown): AirlockError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (error as Error).message;
  return new AirlockError(
    'IDP_UNREACHABLE',
    `the identity provider at ${issuer} is unreachable (${detail}); check idp.issuer in edge.yaml and that the edge can reach it`,
  );
}
