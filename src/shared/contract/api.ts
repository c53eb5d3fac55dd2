// The one contract between the UI and the client core. Electron's preload and the browser-mode
// WebSocket both carry exactly these calls and events; every call is validated at the boundary
// by the schemas, on both sides of either transport. Importers take it all from here; it is kept
// in four modules by concept: schemas, answers and events, errors, and the transport helpers.
export { IPC, UI_SOCKET_PATH } from './api-channels.js';
export * from './api-schemas.js';
export * from './api-types.js';
export * from './api-errors.js';
export * from './api-transport.js';
export * from './session-expiry.js';
export { CLI_SYNTAX, failureForWindow, withoutCliSyntax } from './plain-text.js';
