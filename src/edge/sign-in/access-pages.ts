// HTML pages the edge shows in the browser during sign-in. Every dynamic value goes through
// escapeHtml here; the pages name the application, never policy internals or IdP secrets.
import { escapeHtml, htmlDocument } from '../../shared/html.js';

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; background: #f4f5f7; color: #1f2328; margin: 0; }
  main { max-width: 30rem; margin: 12vh auto; background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 3px #0002; }
  h1 { font-size: 1.25rem; margin-top: 0; }
  footer { margin-top: 1.5rem; font-size: .75rem; color: #57606a; }
`;

function page(title: string, heading: string, body: string): string {
  return htmlDocument(title, STYLE, `<h1>${escapeHtml(heading)}</h1>${body}<footer>Airlock</footer>`);
}

export function signedInPage(hostname: string): string {
  return page(
    `Signed in to ${hostname}`,
    `Signed in to ${hostname}`,
    '<p>You may close this tab and return to the application.</p>',
  );
}

export function deniedPage(hostname: string): string {
  return page(
    'Access denied',
    'Access denied',
    `<p>Your account is not allowed to use <strong>${escapeHtml(hostname)}</strong>.</p><p>If you think you should have access, ask the administrator of ${escapeHtml(hostname)}.</p>`,
  );
}

export function idpUnreachablePage(): string {
  return page(
    'Sign-in unavailable',
    'Sign-in is unavailable',
    '<p>The identity provider could not be reached, so you cannot sign in right now.</p><p>Try again in a few minutes; if it persists, tell the administrator of this Airlock edge.</p>',
  );
}

export function badRequestPage(message: string): string {
  return page(
    'Sign-in failed',
    'Sign-in failed',
    `<p>${escapeHtml(message)}</p><p>Go back to the application and start the sign-in again.</p>`,
  );
}

export function notFoundPage(hostname: string): string {
  return page(
    'Unknown application',
    'Unknown application',
    `<p>No application named <strong>${escapeHtml(hostname)}</strong> is served by this edge.</p>`,
  );
}

export function signOutConfirmPage(): string {
  return page(
    'Sign out',
    'Sign out?',
    '<p>This ends your session on this edge, for every application it signed you in to.</p><form method="post"><button type="submit">Sign out</button></form>',
  );
}

/** `endSession`: the provider's sign-out page the browser is sent on to (RP-initiated logout). */
export function signedOutPage(endSession?: URL): string {
  if (!endSession) return page('Signed out', 'Signed out', '<p>Your session has ended. You may close this tab.</p>');
  return page(
    'Signed out',
    'Signed out',
    `<p>Your session on this edge has ended. You are now being signed out of your identity provider at <strong>${escapeHtml(endSession.host)}</strong> too, so the next sign-in asks for your password again.</p><p><a href="${escapeHtml(endSession.href)}">Continue to ${escapeHtml(endSession.host)}</a></p>`,
  );
}

export function signOutNotRecordedPage(): string {
  return page(
    'Sign-out not recorded',
    'You are still signed in',
    '<p>This edge cannot reach its shared state store, so it could not record your sign-out: nothing was revoked.</p><p>Try again in a minute; if it persists, tell the administrator of this Airlock edge.</p>',
  );
}

export function storeUnavailablePage(): string {
  return page(
    'Sign-in unavailable',
    'Sign-in is briefly unavailable',
    '<p>This edge cannot reach its shared state store, so it cannot sign you in right now. Connections you already have keep working.</p><p>Try again in a minute; if it persists, tell the administrator of this Airlock edge.</p>',
  );
}
