import { useMemo, useState } from 'react';
import { LOG_LEVELS, type LogEntry, type LogLevel, type Resource } from '../shared/contract/api.js';

export function LogsView({ logs, resources }: { logs: LogEntry[]; resources: Resource[] }) {
  const [level, setLevel] = useState<LogLevel>('info');
  const [text, setText] = useState('');
  const names = useMemo(() => new Map(resources.map((resource) => [resource.id, resource.name])), [resources]);
  const shown = useMemo(() => {
    const minimum = LOG_LEVELS.indexOf(level);
    const lower = text.toLowerCase();
    return logs
      .filter(
        (entry) =>
          LOG_LEVELS.indexOf(entry.level) >= minimum && (!lower || entry.message.toLowerCase().includes(lower)),
      )
      .reverse();
  }, [logs, level, text]);

  return (
    <section className="view logs" aria-labelledby="view-title">
      <div className="toolbar">
        <h1 id="view-title" className="view-title">
          Logs
        </h1>
        <select aria-label="Minimum level" value={level} onChange={(event) => setLevel(event.target.value as LogLevel)}>
          {LOG_LEVELS.map((name) => (
            <option key={name} value={name}>
              {name} and above
            </option>
          ))}
        </select>
        <input
          type="search"
          placeholder="Filter"
          aria-label="Filter logs"
          value={text}
          onChange={(event) => setText(event.target.value)}
        />
      </div>
      {shown.length === 0 ? <p className="no-match">Nothing logged at this level yet.</p> : null}
      <ol className="log-list">
        {shown.map((entry) => (
          <li key={entry.seq} className={`log log-${entry.level}`}>
            <time dateTime={entry.time}>{new Date(entry.time).toLocaleTimeString()}</time>
            <span className="level">{entry.level}</span>
            {entry.resourceId && names.has(entry.resourceId) ? (
              <span className="tag">{names.get(entry.resourceId)}</span>
            ) : null}
            <span className="message">{entry.message}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
