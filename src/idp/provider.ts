// The built-in OIDC provider for development and tests: a real oidc-provider (authorization code +
// PKCE, discovery, JWKS, ID tokens with `email` and `groups`), users from users.yaml, and our own
// sign-in page. Plain http on 127.0.0.1 is for dev and tests; production points the edge at the
// organisation's IdP (docs/sso.md).
//
// Integration (tests, `npm run demo`, src/idp/command.ts):
//   const idp = await startIdp({ users, clients: [{ clientId, clientSecret, redirectUris }], port: 0 });
//   idp.issuer   → 'http://127.0.0.1:PORT' (what edge.yaml idp.issuer points at)
//   await idp.close()
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { AirlockError } from '../shared/errors.js';
import { escapeHtml } from '../shared/html.js';
import { loginPage, page } from './login-page.js';
import { memoryAdapterFactory } from './memory-adapter.js';
import { authenticate, withHashedPasswords, type IdpClient, type IdpUser } from './users.js';

export interface IdpOptions {
  users: IdpUser[];
  clients: IdpClient[];
  /** 0 (default) picks a free port. */
  port?: number;
  /** Loopback only unless told otherwise: this IdP has no rate limiting or lockout. */
  host?: string;
  /** Logger for one line per sign-in attempt; never passwords. */
  log?: (message: string) => void;
  /** ID token signature (default RS256): relying parties are tested against each. */
  signingAlgorithm?: 'RS256' | 'PS256' | 'ES256' | 'EdDSA';
  /**
   * false: email and groups only from userinfo, as LemonLDAP::NG and Okta's org server send them
   * by default (OIDC Core §5.4). Default true: in the ID token too.
   */
  claimsInIdToken?: boolean;
}

export interface RunningIdp {
  issuer: string;
  port: number;
  close(): Promise<void>;
}

const INTERACTION_PATH = '/interaction/';
const MAX_FORM_BYTES = 16 * 1024;

export async function startIdp(options: IdpOptions): Promise<RunningIdp> {
  if (options.users.length === 0) throw new AirlockError('CONFIG_INVALID', 'the IdP needs at least one user');
  if (options.clients.length === 0) {
    throw new AirlockError(
      'CONFIG_INVALID',
      'the IdP needs at least one client (--client-id, --client-secret, --redirect-uri, or clients: in users.yaml)',
    );
  }
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => {});
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new AirlockError('PORT_IN_USE', `${host}:${options.port} is already in use; choose another --port`)
          : error,
      ),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const usersByEmail = new Map(options.users.map((user) => [user.email, user]));
  const users = await withHashedPasswords(options.users);

  // Fresh keys per start, named by their thumbprint: a restart is a key rotation to relying parties.
  const algorithm = options.signingAlgorithm ?? 'RS256';
  const { privateKey } = await generateKeyPair(algorithm, { extractable: true });
  const signingJwk = await exportJWK(privateKey);
  const provider = new Provider(issuer, {
    clients: options.clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: client.tokenEndpointAuthMethod ?? 'client_secret_basic',
      id_token_signed_response_alg: algorithm,
      ...(client.jwks ? { jwks: client.jwks } : {}),
    })),
    jwks: { keys: [{ ...signingJwk, alg: algorithm, use: 'sig', kid: await calculateJwkThumbprint(signingJwk) }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    adapter: memoryAdapterFactory(),
    // Short lives: a development IdP only has to outlast one sign-in.
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: KoaContextWithOIDC, interaction) => `${INTERACTION_PATH}${interaction.uid}` },
    // Groups ride on `profile` too, so relying parties with the default scopes receive them.
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'], groups: ['groups'] },
    // By default the granted claims ride in the ID token itself as well as userinfo.
    conformIdTokenClaims: options.claimsInIdToken === false,
    findAccount: (_ctx, sub) => {
      const user = usersByEmail.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: () => ({
          sub,
          email: user.email,
          email_verified: true,
          name: user.name ?? user.email,
          groups: user.groups,
        }),
      };
    },
    // First-party development IdP: every configured client is trusted, so consent is implied.
    loadExistingGrant: async (ctx) => {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client!.clientId,
        accountId: ctx.oidc.session!.accountId!,
      });
      grant.addOIDCScope([...(ctx.oidc.requestParamScopes ?? [])].join(' '));
      await grant.save();
      return grant;
    },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page(
        'Sign-in error',
        `<h1>Sign-in error</h1><p>${escapeHtml(String(out.error_description ?? out.error))}</p>`,
      );
    },
  });
  const oidc = provider.callback();

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!req.url?.startsWith(INTERACTION_PATH)) {
      oidc(req, res);
      return;
    }
    handleInteraction(provider, users, req, res, log).catch((error: unknown) => {
      log(`idp interaction failed: ${(error as Error).message}`);
      if (res.headersSent) return res.destroy();
      // An expired or foreign interaction cookie lands here: start over from the application.
      sendHtml(
        res,
        400,
        page(
          'Sign-in expired',
          '<h1>Sign-in expired</h1><p>This sign-in page is no longer valid. Go back to the application and start again.</p>',
        ),
      );
    });
  });

  return {
    issuer,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handleInteraction(
  provider: Provider,
  users: IdpUser[],
  req: http.IncomingMessage,
  res: http.ServerResponse,
  log: (message: string) => void,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const action = `${INTERACTION_PATH}${details.uid}`;
  const client = await provider.Client.find(String(details.params.client_id));
  const clientName = client?.clientName ?? client?.clientId ?? 'the application';

  if (details.prompt.name !== 'login') {
    // Consent is implied by loadExistingGrant; any other prompt is finished as-is.
    await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
    return;
  }
  if (req.method === 'GET') {
    sendHtml(res, 200, loginPage({ action, clientName }));
    return;
  }
  if (req.method !== 'POST') {
    sendHtml(res, 405, page('Method not allowed', '<h1>Method not allowed</h1>'));
    return;
  }
  const form = await readForm(req);
  const email = form.get('email') ?? '';
  const user = await authenticate(users, email, form.get('password') ?? '');
  if (!user) {
    log(`idp sign-in refused for ${JSON.stringify(email.slice(0, 254))}`);
    sendHtml(res, 401, loginPage({ action, clientName, email, error: 'Wrong email or password. Try again.' }));
    return;
  }
  log(`idp sign-in for ${user.email}`);
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.email } },
    { mergeWithLastSubmission: false },
  );
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendHtml(res: http.ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // No form-action: Chromium applies it to the redirects after the POST, which end at the relying party.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'x-frame-options': 'DENY',
  });
  res.end(html);
}
