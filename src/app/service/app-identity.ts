// Two things the tray app learns about an application without signing in: who a stored token says
// the user is (for display; the edge verifies), and the app's aud and sign-in origin from the 302
// its edge answers to a request without credentials.
import { isAirlockError } from '../../shared/errors.js';
import type { EdgeTarget } from '../../core/edge-target.js';
import { appSignInFrom, type AppSignIn } from '../../core/organisation-session.js';
import { checkAccess } from '../../core/tunnel-dial.js';
import type { EdgeIdentity } from './auth-provider.js';

/** The email and expiry claims of a JWT, read without verification (the edge verifies; this is for display). */
export function tokenIdentity(token: string): EdgeIdentity | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      email?: unknown;
      exp?: unknown;
    };
    return {
      ...(typeof payload.email === 'string' ? { email: payload.email } : {}),
      ...(typeof payload.exp === 'number' ? { expiresAt: new Date(payload.exp * 1000).toISOString() } : {}),
    };
  } catch {
    return undefined;
  }
}

export async function discoverAppByHead(target: EdgeTarget): Promise<AppSignIn | undefined> {
  try {
    await checkAccess({ target, headers: {} });
    return undefined; // the app needs no sign-in
  } catch (error) {
    if (isAirlockError(error) && error.code === 'AUTH_REQUIRED') return appSignInFrom(error.details, target.edgeOrigin);
    throw error;
  }
}
