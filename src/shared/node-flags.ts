// Flags the edge and the connector should run Node with. The service files `airlock service
// install` writes pass them, and so does the bench; started by hand, the edge and the connector
// log a notice naming what is missing at debug level only (docs/configuration.md, "Node flags"):
// it is a tuning hint, not something every start should print.
//
// Why: a relay allocates a Buffer per 16 KB chunk it moves, and some survive to the old generation
// while queued. With V8's default floor the old generation of a 13 MB heap had a limit only ~1 MB
// above its size, so a full mark-compact ran about every 100 ms during a transfer (77 in 15 s at
// the edge). A 64 MB floor makes that 3, and cuts CPU per megabyte moved by roughly a fifth.
// V8 reads this flag only at start-up (v8.setFlagsFromString() afterwards has no effect) and
// NODE_OPTIONS refuses it. bin/airlock.js does not pass it through its shebang: `env -S` is
// missing from BusyBox (Alpine images), where the command would not start at all.
export const NODE_FLAGS = ['--initial-old-space-size=64'] as const;

/** The NODE_FLAGS this process was not started with. */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}

/** One sentence for a server's start-up log, or undefined when nothing is missing. */
export function nodeFlagsNotice(execArgv: readonly string[] = process.execArgv): string | undefined {
  const missing = missingNodeFlags(execArgv);
  if (missing.length === 0) return undefined;
  return `Node was started without ${missing.join(' ')}: relaying costs about a fifth more CPU per MB in garbage collection; start it as \`node ${missing.join(' ')} $(command -v airlock) …\` (service files do this)`;
}
