// The one state machine behind every resource row, tray item and notification, as pure functions:
// what state the facts add up to, how a new check outcome merges with the last one, and which
// failures are worth asking the edge again about without the user.
import {
  failureForWindow,
  type ErrorAction,
  type ErrorCode,
  type LogLevel,
  type ResourceStatus,
} from '../../shared/contract/api.js';
import type { ListenerEvent, ListenerStatus, ResourceState } from '../../shared/contract/status.js';

/** What the edge last said for a resource: it admitted the user, or why not. */
export type CheckOutcome = { ok: true; at: string } | { ok: false; code: ErrorCode; message: string; at: string };

/** Where an outcome came from: a tunnel, the user's "Test" or connect, or an automatic re-check. */
export type CheckSource = 'tunnel' | 'user' | 'recheck';

export interface StateFacts {
  /** The local listener is open. */
  on: boolean;
  /** Opening the listener failed (port in use, …); kept until the next connect or disconnect. */
  startFailure?: { code: string };
  activeConnections: number;
  /** Open connections whose stream lost its tunnel and waits to resume. */
  reconnectingConnections?: number;
  check?: CheckOutcome;
  /** A browser sign-in for the resource's edge is waiting for the user. */
  signingIn: boolean;
}

export function resourceState(facts: StateFacts): ResourceState {
  if (!facts.on) return facts.startFailure ? 'error' : 'off';
  // The one step only the user can take comes first, even over open connections (their token expired).
  if (facts.signingIn) return 'signing-in';
  // Before the last check: the edge answered then, but this connection has no tunnel now.
  if ((facts.reconnectingConnections ?? 0) > 0) return 'reconnecting';
  if (!facts.check) return 'listening';
  if (!facts.check.ok) return facts.check.code === 'SIGNED_OUT' ? 'signed-out' : 'error';
  return facts.activeConnections > 0 ? 'in-use' : 'ready';
}

/**
 * Failures the preflight itself can see (the edge's reachability, TLS, the user's admission).
 * NO_CONNECTOR and ORIGIN_FAILED show only on a tunnel, so a passing preflight must not hide them.
 */
const SEEN_BY_PREFLIGHT = new Set([
  'EDGE_UNREACHABLE',
  'TLS_FAILED',
  'EDGE_ERROR',
  'AUTH_REQUIRED',
  'ACCESS_DENIED',
  'APP_NOT_FOUND',
  'LOGIN_TIMEOUT',
  'LOGIN_CANCELLED',
  'LOGIN_FAILED',
  'SIGNED_OUT',
]);

/** The outcome to keep when a new one arrives. */
export function mergeOutcome(
  previous: CheckOutcome | undefined,
  next: CheckOutcome,
  source: CheckSource,
): CheckOutcome {
  if (source !== 'recheck' || !next.ok || !previous || previous.ok) return next;
  return SEEN_BY_PREFLIGHT.has(previous.code) ? next : previous;
}

/**
 * Failures that may go away on their own (the edge restarts, the network returns): asked about
 * again on a timer. A refusal or a sign-in is not: that needs the user, and must not open browsers.
 */
export function shouldRecheck(outcome: CheckOutcome | undefined): boolean {
  return (
    outcome !== undefined &&
    !outcome.ok &&
    (outcome.code === 'EDGE_UNREACHABLE' || outcome.code === 'TLS_FAILED' || outcome.code === 'EDGE_ERROR')
  );
}

export function errorAction(code: string): ErrorAction {
  if (code === 'AUTH_REQUIRED' || code === 'SIGNED_OUT' || code.startsWith('LOGIN_') || code.startsWith('TOKEN_'))
    return 'sign-in';
  if (code === 'PORT_IN_USE' || code === 'BAD_ARGUMENT' || code === 'APP_NOT_FOUND') return 'edit';
  return 'test';
}

/** Everything known about one resource, as the manager holds it. */
export interface ResourceFacts {
  id: string;
  edge: string;
  /** The open listener's counters; undefined when switched off. */
  listener: ListenerStatus | undefined;
  signingIn: boolean;
  startFailure?: { code: string; message: string; at: string; suggestedPort?: number };
  check?: CheckOutcome;
  lastUsedAt?: string;
  /** False once its edge's discovery list no longer has it. */
  offered?: boolean;
}

/** The row every UI shows: the state, and the error only when the state is `error` (or why it is `signed-out`). */
export function resourceStatus(facts: ResourceFacts): ResourceStatus {
  const { listener, startFailure, check } = facts;
  const activeConnections = listener?.activeConnections ?? 0;
  const state = resourceState({
    on: listener !== undefined,
    ...(startFailure ? { startFailure } : {}),
    activeConnections,
    reconnectingConnections: listener?.reconnectingConnections ?? 0,
    ...(check ? { check } : {}),
    signingIn: facts.signingIn,
  });
  const failure = startFailure ?? (check && !check.ok ? check : undefined);
  return {
    id: facts.id,
    state,
    edge: facts.edge,
    ...(listener?.localAddress ? { localAddress: listener.localAddress } : {}),
    activeConnections,
    totalConnections: listener?.totalConnections ?? 0,
    bytesUp: listener?.bytesUp ?? 0,
    bytesDown: listener?.bytesDown ?? 0,
    ...((state === 'error' || state === 'signed-out') && failure
      ? {
          lastError: {
            code: failure.code,
            message: failureForWindow(failure).message,
            at: failure.at,
            action: errorAction(failure.code),
            ...(failure === startFailure && startFailure.suggestedPort
              ? { suggestedPort: startFailure.suggestedPort }
              : {}),
          },
        }
      : {}),
    ...(check?.ok ? { checkedAt: check.at } : {}),
    ...(facts.lastUsedAt ? { lastUsedAt: facts.lastUsedAt } : {}),
    ...(facts.offered === undefined ? {} : { offered: facts.offered }),
  };
}

/** The Logs view's line for a listener event (the tunnel's own success is not news). */
export function listenerLogLine(name: string, event: ListenerEvent): { level: LogLevel; message: string } | undefined {
  switch (event.type) {
    case 'listening':
      return { level: 'info', message: `${name}: listening on ${event.address}` };
    case 'connection-opened':
      return { level: 'debug', message: `${name}: connection ${event.id} from ${event.remote}` };
    case 'connection-closed': {
      const said = `${name}: connection ${event.id} closed after ${event.durationMs} ms (${event.bytesUp} B up, ${event.bytesDown} B down)`;
      return event.error
        ? { level: 'warn', message: `${said}: ${event.error.message}` }
        : { level: 'debug', message: said };
    }
    case 'error':
      return { level: 'error', message: `${name}: ${event.message}` };
    case 'stopped':
      return { level: 'info', message: `${name}: disconnected` };
    case 'connection-reconnecting':
      return { level: 'warn', message: `${name}: connection ${event.id} lost its tunnel; reconnecting` };
    case 'connection-resumed':
      return { level: 'info', message: `${name}: connection ${event.id} resumed` };
    case 'tunnel-opened':
      return undefined;
  }
}
