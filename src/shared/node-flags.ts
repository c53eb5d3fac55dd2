// Flags the airlock processes run Node with. bin/airlock.js carries them in its shebang, service
// files put them on the command line, and the bench starts processes with them; a test keeps the
// three in step (docs/performance.md, "Garbage collection").
//
// Why: a relay allocates a Buffer per 16 KB chunk it moves, and some survive to the old generation
// while queued. With V8's default floor the old generation of a 13 MB heap had a limit only ~1 MB
// above its size, so a full mark-compact ran about every 100 ms during a transfer (77 in 15 s at
// the edge). A 64 MB floor makes that 3, and cuts CPU per megabyte moved by roughly a fifth.
// V8 reads this flag only at start-up: v8.setFlagsFromString() afterwards has no effect.
export const NODE_FLAGS = ['--initial-old-space-size=64'] as const;
