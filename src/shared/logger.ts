// Structured logs (pino): one JSON line per event on stderr. Credential-shaped fields are
// redacted as a second line of defence; the first is never passing them to a log call.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(name: string, level = process.env.AIRLOCK_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      redact: {
        paths: ['token', 'secret', 'password', '*.token', '*.secret', '*.password', 'headers.authorization', 'headers["cf-access-token"]', 'headers["cf-access-client-secret"]'],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** For in-process use (tests, the demo) where logs would only be noise. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
