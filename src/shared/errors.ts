// Typed errors with a stable code and a message that tells the user what to do next.
import { DEFAULTS } from './constants.js';
import type { AirlockErrorCode } from './contract/error-catalogue.js';

// The codes, with what each means and what to do, are declared in the catalogue.
export type { AirlockErrorCode };

export class AirlockError extends Error {
  override readonly name = 'AirlockError';
  constructor(
    readonly code: AirlockErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** What to check when the edge cannot be reached: outbound TCP to the port (or ports) being dialled. */
export function egressHint(port: number, ...more: number[]): string {
  const ports = [...new Set([port, ...more])];
  const named = ports.length === 1 ? `port ${ports[0]}` : `ports ${ports.slice(0, -1).join(', ')} and ${ports.at(-1)}`;
  return `check that outbound connections on ${named} are allowed from this machine`;
}

/** The hint for an edge on the default port, 443. */
export const EGRESS_HINT = egressHint(DEFAULTS.edgePort);

export function isAirlockError(value: unknown): value is AirlockError {
  return value instanceof AirlockError;
}

/**
 * A failure as the CLI prints it after `airlock: `: its code in brackets, so the user can look it
 * up (docs/troubleshooting.md "Error codes"); a failure without one is a bug, [UNEXPECTED].
 */
export function describeFailure(error: Error): string {
  return isAirlockError(error) ? `[${error.code}] ${error.message}` : `[UNEXPECTED] ${error?.message ?? String(error)}`;
}

/** Exit codes of the CLI: 2 is reserved for bad configuration or arguments, as in most Unix tools. */
export function exitCodeFor(error: unknown): number {
  // A secret file others may read is a bad argument too: the user fixes the file, not the network;
  // so is a service whose files its user cannot reach.
  const usage: string[] = ['CONFIG_INVALID', 'BAD_ARGUMENT', 'SECRET_FILE_UNSAFE', 'SERVICE_WOULD_NOT_START'];
  if (isAirlockError(error) && usage.includes(error.code)) return 2;
  return 1;
}
