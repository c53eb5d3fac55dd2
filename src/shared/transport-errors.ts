// What went wrong dialling the edge, as a sentence: unreachable (check egress on 443) or TLS
// refused (private CA?). Shared by the client and the connector, which dial the same way.
import { AirlockError, EGRESS_HINT } from './errors.js';

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE',
]);

export function transportError(error: Error & { code?: string }, where: string): AirlockError {
  const code = error.code ?? '';
  if (UNREACHABLE_CODES.has(code) || /timed out|timeout/i.test(error.message)) {
    return new AirlockError('EDGE_UNREACHABLE', `cannot reach the edge at ${where} (${code || error.message}); ${EGRESS_HINT}`, { cause: code });
  }
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|ERR_TLS|HOSTNAME_MISMATCH|altnames/i.test(`${code} ${error.message}`)) {
    return new AirlockError(
      'TLS_FAILED',
      `TLS to the edge at ${where} was refused (${code || error.message}). If the edge uses a private CA, pass --ca FILE ` +
        `or set NODE_EXTRA_CA_CERTS; a proxy that intercepts TLS does this too; ${EGRESS_HINT}`,
      { cause: code },
    );
  }
  return new AirlockError('EDGE_UNREACHABLE', `connection to the edge at ${where} failed (${code || error.message}); ${EGRESS_HINT}`, { cause: code });
}
