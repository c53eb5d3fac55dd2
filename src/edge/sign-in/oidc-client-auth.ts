// How the edge authenticates to the provider's token endpoint (OIDC Core §9): edge.yaml
// idp.tokenEndpointAuthMethod, or chosen from discovery's token_endpoint_auth_methods_supported.
import { readFile } from 'node:fs/promises';
import { createPrivateKey } from 'node:crypto';
import { importPKCS8 } from 'jose';
import * as client from 'openid-client';
import { SSO } from '../../shared/constants.js';
import { AirlockError } from '../../shared/errors.js';

export type TokenEndpointAuthMethod = (typeof SSO.tokenEndpointAuthMethods)[number];

export interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
  /** PKCS #8 PEM file of the key registered at the provider for private_key_jwt (RFC 7523). */
  privateKeyFile?: string;
  /** Its `kid`, when the provider holds several keys for the client. */
  privateKeyId?: string;
}

/**
 * Unset: private_key_jwt when a key is configured, else client_secret_basic (the OAuth default)
 * unless the provider does not offer it, or the id or secret holds characters that Basic
 * form-encodes (RFC 6749 §2.3.1: "airlock-edge" travels as "airlock%2Dedge") and the provider
 * offers client_secret_post: some providers never decode them.
 */
export function chooseAuthMethod(
  configured: TokenEndpointAuthMethod | undefined,
  supported: readonly string[] | undefined,
  credentials: ClientCredentials,
): TokenEndpointAuthMethod {
  if (configured) return configured;
  const offered = (method: string) => supported === undefined || supported.includes(method);
  if (credentials.privateKeyFile) return 'private_key_jwt';
  const altered = [credentials.clientId, credentials.clientSecret ?? ''].some(changedByFormEncoding);
  const post = supported?.includes('client_secret_post') ?? false;
  if (offered('client_secret_basic') && !(altered && post)) return 'client_secret_basic';
  return post ? 'client_secret_post' : 'client_secret_basic';
}

/** openid-client's ClientAuth for the method; reads the private key file once. */
export async function clientAuthFor(
  method: TokenEndpointAuthMethod,
  credentials: ClientCredentials,
): Promise<client.ClientAuth> {
  if (method === 'private_key_jwt') return client.PrivateKeyJwt(await loadPrivateKey(credentials));
  if (!credentials.clientSecret) throw new AirlockError('CONFIG_INVALID', `idp.clientSecret is required for ${method}`);
  return method === 'client_secret_post'
    ? client.ClientSecretPost(credentials.clientSecret)
    : client.ClientSecretBasic(credentials.clientSecret);
}

/** Anything but letters and digits changes under application/x-www-form-urlencoded as openid-client applies it. */
function changedByFormEncoding(text: string): boolean {
  return /[^A-Za-z0-9]/.test(text);
}

async function loadPrivateKey(credentials: ClientCredentials): Promise<client.PrivateKey> {
  const { privateKeyFile, privateKeyId } = credentials;
  if (!privateKeyFile) throw new AirlockError('CONFIG_INVALID', 'idp.privateKeyFile is required for private_key_jwt');
  let pem: string;
  try {
    pem = await readFile(privateKeyFile, 'utf8');
  } catch (error) {
    throw new AirlockError('CONFIG_INVALID', `idp.privateKeyFile ${privateKeyFile}: ${(error as Error).message}`);
  }
  const algorithm = signingAlgorithmOf(pem, privateKeyFile);
  const key = await importPKCS8(pem, algorithm).catch((error: unknown) => {
    throw new AirlockError('CONFIG_INVALID', `idp.privateKeyFile ${privateKeyFile}: ${(error as Error).message}`);
  });
  return { key, ...(privateKeyId ? { kid: privateKeyId } : {}) };
}

/** RS256 for RSA, ES256 for P-256, EdDSA for Ed25519: what every provider that takes private_key_jwt accepts. */
function signingAlgorithmOf(pem: string, file: string): string {
  let type: string | undefined;
  let curve: string | undefined;
  try {
    const key = createPrivateKey(pem);
    type = key.asymmetricKeyType;
    curve = key.asymmetricKeyDetails?.namedCurve;
  } catch (error) {
    throw new AirlockError(
      'CONFIG_INVALID',
      `idp.privateKeyFile ${file} is not a PEM private key: ${(error as Error).message}`,
    );
  }
  if (type === 'rsa') return 'RS256';
  if (type === 'ec' && curve === 'prime256v1') return 'ES256';
  if (type === 'ed25519') return 'EdDSA';
  throw new AirlockError('CONFIG_INVALID', `idp.privateKeyFile ${file} must be an RSA, P-256 or Ed25519 key`);
}
