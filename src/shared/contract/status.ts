// Status of one local listener, as the CLI prints it and the tray app will show it.
import type { AirlockErrorCode } from './error-catalogue.js';

export type ListenerState = 'stopped' | 'starting' | 'listening' | 'error';

export interface ListenerStatus {
  state: ListenerState;
  /** "127.0.0.1:2222" once listening. */
  localAddress?: string;
  hostname: string;
  activeConnections: number;
  /** Open connections whose resumable stream lost its tunnel and waits to resume. */
  reconnectingConnections: number;
  totalConnections: number;
  /** Bytes from the local client towards the origin. */
  bytesUp: number;
  /** Bytes from the origin back to the local client. */
  bytesDown: number;
  lastError?: { code: AirlockErrorCode; message: string; at: string };
}

export type ListenerEvent =
  | { type: 'listening'; address: string }
  | { type: 'connection-opened'; id: number; remote: string }
  /** The edge accepted this connection's tunnel: proof that it answers and admits the user. */
  | { type: 'tunnel-opened'; id: number }
  /** The connection's tunnel broke; its resumable stream is being dialled again (any edge). */
  | { type: 'connection-reconnecting'; id: number }
  /** The connection's stream is carried by a new tunnel; no byte was lost. */
  | { type: 'connection-resumed'; id: number }
  | {
      type: 'connection-closed';
      id: number;
      bytesUp: number;
      bytesDown: number;
      durationMs: number;
      error?: { code: AirlockErrorCode; message: string };
    }
  | { type: 'error'; code: AirlockErrorCode; message: string }
  | { type: 'stopped' };

/**
 * What a resource is, as the window, the tray menu and notifications all show it (one state
 * machine, src/app/service/resource-state.ts). Green means `ready` or `in-use`, nothing else:
 * - off: not switched on;
 * - listening: the local port is open, the edge's answer is not known yet (checking);
 * - signing-in: waiting for the user to finish signing in to its edge in the browser;
 * - ready: the edge answered and admits the user (the preflight or a tunnel passed);
 * - in-use: ready, with connections open;
 * - reconnecting: a connection's tunnel broke and its stream waits to resume (nothing lost yet);
 * - error: the listener or the edge failed; the message says what to do;
 * - signed-out: the user signed out of its edge; the port stays open but refuses programs at once
 *   (no hidden browser sign-in) until the user signs in again.
 */
export const RESOURCE_STATES = [
  'off',
  'listening',
  'signing-in',
  'ready',
  'in-use',
  'reconnecting',
  'error',
  'signed-out',
] as const;
export type ResourceState = (typeof RESOURCE_STATES)[number];

/** The words a row shows for a state (the tray menu and the window say the same). */
export function stateLabel(state: ResourceState): string {
  switch (state) {
    case 'off':
      return 'Off';
    case 'listening':
      return 'Checking…';
    case 'signing-in':
      return 'Waiting for sign-in';
    case 'ready':
      return 'Ready';
    case 'in-use':
      return 'In use';
    case 'reconnecting':
      return 'Reconnecting…';
    case 'error':
      return 'Error';
    case 'signed-out':
      return 'Signed out';
  }
}

/** Green in every view means this, and nothing else. */
export function isGreen(state: ResourceState): boolean {
  return state === 'ready' || state === 'in-use';
}

/** Switched on (the listener is open), whatever the edge said. */
export function isSwitchedOn(status: { state: ResourceState; localAddress?: string }): boolean {
  return status.state !== 'off' && (status.state !== 'error' || status.localAddress !== undefined);
}
