// airlock:// links (a browser bookmark, a desktop shortcut, another app). They come from outside,
// so anything that is not exactly one known action on one plain resource name is refused.
import { resolve } from 'node:path';
import { AirlockError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/contract/api.js';

export const PROTOCOL = 'airlock';

export type DeepLink =
  { action: 'connect'; name: string } | { action: 'disconnect'; name: string } | { action: 'open' };

/** Longest link accepted at all, before any parsing: names are short, so links are too. */
const MAX_LINK_LENGTH = 512;
const ACTIONS_WITH_NAME = new Set(['connect', 'disconnect']);
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._ -]*$/;

/** `airlock://connect/NAME` → { action, name }; throws BAD_ARGUMENT for anything else. */
export function parseDeepLink(link: string): DeepLink {
  const refuse = (why: string): never => {
    throw new AirlockError('BAD_ARGUMENT', `ignored the link: ${why}`);
  };
  if (typeof link !== 'string' || link.length > MAX_LINK_LENGTH) refuse('it is too long');
  if (/[\u0000-\u001f\u007f]/.test(link)) refuse('it contains control characters');
  const prefix = `${PROTOCOL}://`;
  if (!link.toLowerCase().startsWith(prefix)) refuse(`it does not start with ${prefix}`);
  const rest = link.slice(prefix.length).replace(/\/$/, '');
  if (/[?#]/.test(rest)) refuse('query strings and fragments are not used');
  const [action = '', ...path] = rest.split('/');
  const lowerAction = action.toLowerCase();
  if (lowerAction === 'open' && path.length === 0) return { action: 'open' };
  if (!ACTIONS_WITH_NAME.has(lowerAction)) refuse(`unknown action "${action.slice(0, 20)}"`);
  if (path.length !== 1 || !path[0]) refuse('expected exactly one resource name, as in airlock://connect/NAME');
  let name: string;
  try {
    name = decodeURIComponent(path[0]!);
  } catch {
    return refuse('the name is not valid percent-encoding');
  }
  if (/[\u0000-\u001f\u007f]/.test(name)) refuse('the name contains control characters');
  if (name.includes('/') || name.includes('\\') || name === '.' || name === '..' || name.includes('..'))
    refuse('the name looks like a path');
  if (name.length > LIMITS.nameLength) refuse(`the name is longer than ${LIMITS.nameLength} characters`);
  if (!namePattern.test(name)) refuse('the name has characters a resource name cannot have');
  return { action: lowerAction as 'connect' | 'disconnect', name };
}

export function deepLinkFor(action: 'connect' | 'disconnect', name: string): string {
  return `${PROTOCOL}://${action}/${encodeURIComponent(name)}`;
}

/** What registering as the airlock:// handler needs to know about the running process. */
export interface LaunchedProcess {
  /** Electron's process.defaultApp: true when run from source as `electron PATH` (npm start). */
  defaultApp?: boolean;
  execPath: string;
  argv: readonly string[];
}

/**
 * Arguments for app.setAsDefaultProtocolClient. A packaged app is its own executable; run from
 * source, the executable is Electron itself, so the OS must also be given the app's path or a link
 * starts bare Electron (Windows, Linux). This is the pattern of Electron's "Deep Links" tutorial.
 */
export function protocolClientArguments(launched: LaunchedProcess): [protocol: string, path?: string, args?: string[]] {
  const appPath = launched.argv[1];
  if (!launched.defaultApp || appPath === undefined) return [PROTOCOL];
  return [PROTOCOL, launched.execPath, [resolve(appPath)]];
}

/** A second launch passes its link among its argv (Windows, Linux); picks it out, or undefined. */
export function deepLinkFromArgv(argv: readonly string[]): string | undefined {
  return argv.find((argument) => argument.toLowerCase().startsWith(`${PROTOCOL}://`));
}
