// The names every transport carries, without the schemas (so the preload stays tiny).
// src/shared/contract/api.ts checks at compile time that its schemas cover exactly these.

export const API_METHOD_NAMES = [
  'listResources',
  'addResource',
  'updateResource',
  'removeResource',
  'importResources',
  'exportResources',
  'connect',
  'disconnect',
  'testResource',
  'connectAll',
  'disconnectAll',
  'getStatus',
  'signIn',
  'signOut',
  'signOutAll',
  'cancelSignIn',
  'discover',
  'addDiscovered',
  'getSettings',
  'updateSettings',
  'getLogs',
  'createShortcut',
  'getAbout',
  'openWindow',
  'hideTray',
  'quit',
  'sshConfig',
] as const;

export type ApiMethodName = (typeof API_METHOD_NAMES)[number];

/** Electron IPC channels: one for calls, one for events. Listed here and nowhere else. */
export const IPC = {
  invoke: 'airlock:invoke',
  event: 'airlock:event',
} as const;

/** Browser mode: the WebSocket path. */
export const UI_SOCKET_PATH = '/api';

export function isApiMethodName(value: unknown): value is ApiMethodName {
  return typeof value === 'string' && (API_METHOD_NAMES as readonly string[]).includes(value);
}
