// Structured logs (pino): one JSON line per event on stderr. Credential-shaped fields are
// redacted as a second line of defence; the first is never passing them to a log call.
// An interactive command may show the same events as readable lines instead (format 'text'), and
// keep the JSON in a file.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export function isLogFormat(text: string): text is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(text);
}

export interface LoggerOptions {
  /** pino level; default AIRLOCK_LOG_LEVEL, else info. */
  level?: string;
  /** How events look on stderr: 'json' (default) one JSON object a line, 'text' one sentence a line. */
  format?: LogFormat;
  /** Also append every event to this file as a JSON line (mode 0600). */
  file?: string;
}

export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.AIRLOCK_LOG_LEVEL ?? 'info';
  const stderr = pino.destination({ fd: 2, sync: true });
  const terminal: DestinationStream =
    options.format === 'text' ? { write: (line: string) => stderr.write(`${formatLogLine(line)}\n`) } : stderr;
  const destination = options.file
    ? pino.multistream([
        { level: level as pino.Level, stream: terminal },
        {
          level: level as pino.Level,
          stream: pino.destination({ dest: options.file, append: true, mkdir: true, mode: 0o600, sync: true }),
        },
      ])
    : terminal;
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      redact: {
        paths: [
          'token',
          'secret',
          'password',
          '*.token',
          '*.secret',
          '*.password',
          'headers.authorization',
          'headers["cf-access-token"]',
          'headers["cf-access-client-secret"]',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

const LEVEL_WORDS: Record<number, string> = { 10: 'trace', 20: 'debug', 40: 'warning', 50: 'error', 60: 'fatal' };
const NOT_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

/** One JSON log line as a person reads it: `14:03:07 warning: cannot connect to edge (index=0, error=…)`. */
export function formatLogLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const time = typeof record.time === 'number' ? new Date(record.time).toTimeString().slice(0, 8) : '';
  const level = LEVEL_WORDS[record.level as number];
  const fields = Object.entries(record)
    .filter(([key]) => !NOT_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return `${time} ${level ? `${level}: ` : ''}${typeof record.msg === 'string' ? record.msg : ''}${fields.length > 0 ? ` (${fields.join(', ')})` : ''}`;
}

/** For in-process use (tests, the demo) where logs would only be noise. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
