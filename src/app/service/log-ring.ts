// The last N log entries the UI's Logs view shows, with the level and text filters it asks for.
import { LOG_LEVELS, type LogEntry, type LogLevel } from '../../shared/contract/api.js';

export class LogRing {
  private readonly entries: LogEntry[] = [];
  private seq = 0;

  constructor(private readonly limit = 500) {}

  add(level: LogLevel, message: string, resourceId?: string): LogEntry {
    const entry: LogEntry = {
      seq: ++this.seq,
      time: new Date().toISOString(),
      level,
      message,
      ...(resourceId ? { resourceId } : {}),
    };
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.shift();
    return entry;
  }

  query(query: { level?: LogLevel; search?: string; limit?: number } = {}): LogEntry[] {
    const minimum = LOG_LEVELS.indexOf(query.level ?? 'debug');
    const search = query.search?.toLowerCase();
    const matching = this.entries.filter(
      (entry) =>
        LOG_LEVELS.indexOf(entry.level) >= minimum && (!search || entry.message.toLowerCase().includes(search)),
    );
    return matching.slice(-(query.limit ?? 200));
  }
}
