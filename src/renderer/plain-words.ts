// What a row says, for someone who is not an engineer: one plain sentence for each error code and
// the one button that fixes it. The code and the engine's own message stay under "Details".
import { edgeHost, type ResourceStatus } from '../shared/contract/api.js';
import type { ResourceState } from '../shared/contract/status.js';

export type Fix = 'sign-in' | 'try-again' | 'edit' | 'use-port';

export interface PlainError {
  sentence: string;
  fix: Fix;
  fixLabel: string;
  /** For `use-port`: the free port to move to. */
  port?: number;
}

/** How often the service asks an unreachable edge again (src/app/service/resource-health.ts). */
const RECHECK_SECONDS = 15;

export function plainError(status: ResourceStatus, port: number): PlainError | undefined {
  const error = status.lastError;
  if (!error) return undefined;
  const edge = edgeHost(status.edge);
  const at = new Date(error.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  switch (error.code) {
    case 'SIGNED_OUT':
      return { sentence: `You signed out of ${edge}.`, fix: 'sign-in', fixLabel: 'Sign in' };
    case 'AUTH_REQUIRED':
    case 'TOKEN_EXPIRED':
    case 'TOKEN_INVALID':
    case 'TOKEN_REVOKED':
      return { sentence: `Sign in to ${edge} to use this.`, fix: 'sign-in', fixLabel: 'Sign in' };
    case 'LOGIN_TIMEOUT':
      return { sentence: 'The sign-in was not finished in time.', fix: 'sign-in', fixLabel: 'Sign in again' };
    case 'LOGIN_CANCELLED':
      return { sentence: 'The sign-in was cancelled.', fix: 'sign-in', fixLabel: 'Sign in again' };
    case 'LOGIN_FAILED':
      return { sentence: 'The sign-in did not go through.', fix: 'sign-in', fixLabel: 'Sign in again' };
    case 'EDGE_UNREACHABLE':
      return {
        sentence: `Can’t reach ${edge} — retrying every ${RECHECK_SECONDS} s, last try ${at}.`,
        fix: 'try-again',
        fixLabel: 'Try again',
      };
    case 'TLS_FAILED':
      return {
        sentence: `Can’t confirm this is really ${edge} (its certificate is not trusted).`,
        fix: 'try-again',
        fixLabel: 'Try again',
      };
    case 'ACCESS_DENIED':
      return {
        sentence: 'Your account is not allowed to use this. Ask your administrator for access.',
        fix: 'try-again',
        fixLabel: 'Try again',
      };
    case 'APP_NOT_FOUND':
      return { sentence: `${edge} does not offer this address.`, fix: 'edit', fixLabel: 'Edit' };
    case 'PORT_IN_USE': {
      const sentence = `Another program is using port ${port} on this computer.`;
      const free = error.suggestedPort;
      return free
        ? { sentence, fix: 'use-port', fixLabel: `Use port ${free}`, port: free }
        : { sentence, fix: 'edit', fixLabel: 'Edit' };
    }
    case 'NO_CONNECTOR':
    case 'ORIGIN_FAILED':
      return {
        sentence: 'The service is not answering right now.',
        fix: 'try-again',
        fixLabel: 'Try again',
      };
    default:
      return {
        sentence: 'Something went wrong.',
        fix: error.action === 'sign-in' ? 'sign-in' : 'try-again',
        fixLabel: error.action === 'sign-in' ? 'Sign in' : 'Try again',
      };
  }
}

/** Rows that need the user come first, then those in use, then the rest. */
const RANK: Record<ResourceState, number> = {
  error: 0,
  'signing-in': 0,
  'signed-out': 1,
  reconnecting: 2,
  'in-use': 2,
  ready: 3,
  listening: 3,
  off: 4,
};

export function needsYou(state: ResourceState): boolean {
  return state === 'error' || state === 'signing-in' || state === 'signed-out';
}

export function rank(state: ResourceState): number {
  return RANK[state];
}
