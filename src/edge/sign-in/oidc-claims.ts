// Who signed in, from the provider's claims. Many providers (LemonLDAP::NG, Okta's org server,
// Keycloak without "add to ID token") put only `sub` in the ID token of the code flow and serve
// email and groups from userinfo (OIDC Core §5.4): the ID token is read first, userinfo fills gaps.
import { SSO } from '../../shared/constants.js';
import { AirlockError } from '../../shared/errors.js';
import type { LoginIdentity } from './login-codes.js';

/** Which claim carries what (edge.yaml idp.claims): Entra ID sends groups as "groups" or "roles". */
export interface ClaimNames {
  email: string;
  groups: string;
}

export type Claims = Record<string, unknown>;

/** Where the claims came from, for the refusal message: userinfo is absent when it was not asked. */
export interface ClaimSources {
  idToken: Claims;
  userinfo?: Claims;
  /** Why userinfo was not asked, when it was not. */
  userinfoSkipped?: string;
}

export function claimNames(configured: Partial<ClaimNames> | undefined, groupsClaim?: string): ClaimNames {
  return {
    email: configured?.email ?? SSO.defaultEmailClaim,
    groups: configured?.groups ?? groupsClaim ?? SSO.defaultGroupsClaim,
  };
}

/** The ID token lacks a claim the edge reads: worth one request to userinfo. */
export function needsUserinfo(idToken: Claims, names: ClaimNames): boolean {
  return idToken[names.email] === undefined || idToken[names.groups] === undefined;
}

/** sub, email and groups; groups may be an array, a single string or absent (no groups). */
export function identityFromClaims(sources: ClaimSources, names: ClaimNames): LoginIdentity {
  const { idToken, userinfo } = sources;
  const { sub } = idToken;
  if (typeof sub !== 'string' || !sub)
    throw new AirlockError('IDP_CLAIM_MISSING', 'the identity provider sent no subject (sub) in the ID token');
  const pick = (name: string): unknown => idToken[name] ?? userinfo?.[name];
  const email = pick(names.email);
  if (typeof email !== 'string' || !email.includes('@')) {
    const what =
      email === undefined ? `no "${names.email}" claim` : `a "${names.email}" claim that is not an email address`;
    throw new AirlockError(
      'IDP_CLAIM_MISSING',
      `the identity provider sent ${what} ${whereLooked(sources)}; grant the "email" scope to the Airlock client, or set idp.claims.email in edge.yaml to the claim that holds the address`,
      { claim: names.email },
    );
  }
  // An unverified address could be anyone's: policies match on email, so refuse it outright.
  if (pick('email_verified') === false)
    throw new AirlockError('LOGIN_FAILED', `the identity provider has not verified ${email}`);
  const raw = pick(names.groups);
  const groups = Array.isArray(raw)
    ? raw.filter((group): group is string => typeof group === 'string')
    : typeof raw === 'string'
      ? [raw]
      : [];
  return { sub, email: email.toLowerCase(), groups };
}

function whereLooked({ userinfo, userinfoSkipped }: ClaimSources): string {
  if (userinfo) return 'in the ID token or from the userinfo endpoint';
  return `in the ID token (userinfo not asked: ${userinfoSkipped ?? 'not needed'})`;
}
