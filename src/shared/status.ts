// Status of one local listener, as the CLI prints it and the tray app will show it.

export type ListenerState = 'stopped' | 'starting' | 'listening' | 'error';

export interface ListenerStatus {
  state: ListenerState;
  /** "127.0.0.1:2222" once listening. */
  localAddress?: string;
  hostname: string;
  activeConnections: number;
  totalConnections: number;
  /** Bytes from the local client towards the origin. */
  bytesUp: number;
  /** Bytes from the origin back to the local client. */
  bytesDown: number;
  lastError?: { code: string; message: string; at: string };
}

export type ListenerEvent =
  | { type: 'listening'; address: string }
  | { type: 'connection-opened'; id: number; remote: string }
  | { type: 'connection-closed'; id: number; bytesUp: number; bytesDown: number; durationMs: number; error?: { code: string; message: string } }
  | { type: 'error'; code: string; message: string }
  | { type: 'stopped' };
