// Loaded with `node --import` into an airlock process under test: right after the process itself
// writes a line matching AIRLOCK_TEST_SIGNAL_ON, it sends itself SIGINT. kill(2) to oneself
// delivers the signal before it returns, so this is the fastest reader a ready line can have:
// a command whose Ctrl-C handler is not yet in place dies of the signal instead of stopping cleanly.
const pattern = new RegExp(process.env.AIRLOCK_TEST_SIGNAL_ON ?? '(?!)');
let sent = false;
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => {
    const written = write(chunk, ...rest);
    if (!sent && pattern.test(String(chunk))) {
      sent = true;
      process.kill(process.pid, 'SIGINT');
    }
    return written;
  };
}
