// What went wrong dialling the edge, as a sentence: unreachable (check egress on the port dialled)
// or TLS refused (private CA?). Shared by the client and the connector, which dial the same way.
import { AirlockError, egressHint } from './errors.js';

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** `where` names the edge for the message; `port` is the TCP port actually dialled. */
export function transportError(error: Error & { code?: string }, where: string, port: number): AirlockError {
  const code = error.code ?? '';
  const hint = egressHint(port);
  if (UNREACHABLE_CODES.has(code) || /timed out|timeout/i.test(error.message)) {
    return new AirlockError(
      'EDGE_UNREACHABLE',
      `cannot reach the edge at ${where} (${code || error.message}); ${hint}`,
      { cause: code },
    );
  }
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|ERR_TLS|HOSTNAME_MISMATCH|altnames/i.test(`${code} ${error.message}`)) {
    return new AirlockError(
      'TLS_FAILED',
      `TLS to the edge at ${where} was refused (${code || error.message}). If the edge uses a private CA, pass --ca FILE ` +
        `or set NODE_EXTRA_CA_CERTS; a proxy that intercepts TLS does this too; ${hint}`,
      { cause: code },
    );
  }
  return new AirlockError(
    'EDGE_UNREACHABLE',
    `connection to the edge at ${where} failed (${code || error.message}); ${hint}`,
    { cause: code },
  );
}
