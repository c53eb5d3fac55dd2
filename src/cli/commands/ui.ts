// `airlock ui`: the tray app's window in a browser, for machines without a desktop session.
import { startBrowserMode } from '../../app/browser/browser-mode.js';
import { writeLaunchPage } from '../../app/browser/ui-launch-page.js';
import { loginWithBrowser } from '../../core/loopback-login.js';
import { SsoAuth } from '../../app/service/sso-auth.js';
import { AirlockError } from '../../shared/errors.js';
import { openSystemBrowser } from '../browser.js';
import { onShutdown, parse, say, showUsage } from '../args.js';
import { cliTokenStore } from '../token-output.js';

const USAGE = `usage: airlock ui [--port N] [--data FILE] [--ca FILE] [--print-link]

Serves the Airlock window on 127.0.0.1 and runs the saved resources' listeners in this process.
The browser is opened on a private page that signs it in once (no secret in any command line).
  --port N       port for the UI (default: a free one)
  --data FILE    the saved resources (default: the desktop app's resources.json)
  --ca FILE      trust this CA for edges with a private CA
  --print-link   also print a one-time link (it carries the sign-in token: keep it to yourself)`;

export async function uiCommand(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    { port: { type: 'string' }, data: { type: 'string' }, ca: { type: 'string' }, 'print-link': { type: 'boolean' } },
    USAGE,
  );
  if (values.help) return showUsage(USAGE);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535))
    throw new AirlockError('BAD_ARGUMENT', '--port must be from 1 to 65535');
  const auth = new SsoAuth({
    tokens: cliTokenStore(),
    ...(values.ca ? { caFile: values.ca } : {}),
    login: (options) => loginWithBrowser({ ...options, openBrowser: openSystemBrowser, print: say }),
  });
  let launch: Awaited<ReturnType<typeof writeLaunchPage>> | undefined;
  const ui = await startBrowserMode({
    auth,
    // Quit in the page: every listener is closed by now; the launch page goes, then the process.
    onQuit: () => void (launch?.remove() ?? Promise.resolve()).finally(() => process.exit(0)),
    ...(port ? { port } : {}),
    ...(values.data ? { dataFile: values.data } : {}),
    ...(values.ca ? { caFile: values.ca } : {}),
  });
  // The handler is in place before the ready line: whoever reads that line may signal at once.
  onShutdown(async () => {
    await launch?.remove();
    await ui.close();
  });
  launch = await writeLaunchPage(ui.origin, ui.token);
  const opened = await openSystemBrowser(launch.url);
  say(`Airlock UI at ${ui.origin}/${opened ? ' (opened in your browser)' : ''}. Ctrl-C stops it and every listener.`);
  if (!opened)
    say(
      `Open ${launch.file} in a browser on this machine: it signs that browser in, once. (Or run with --print-link for a one-time link.)`,
    );
  if (values['print-link']) say(`One-time link (keep it to yourself): ${ui.url}`);
}
