// `airlock ui` hands the browser its one-time token without a command line (which every local
// user sees in ps) or a URL: a page in a private temporary folder (0700, the file 0600) that
// posts the token to the UI, as Jupyter opens its server. The browser is given only the file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface LaunchPage {
  file: string;
  /** file:// URL of the page: safe to pass to a browser launcher. */
  url: string;
  remove(): Promise<void>;
}

export async function writeLaunchPage(origin: string, token: string): Promise<LaunchPage> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-ui-')); // created 0700
  const file = join(dir, 'open-airlock.html');
  const escape = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
  await writeFile(
    file,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Opening Airlock…</title></head><body>
<form method="post" action="${escape(origin)}/"><input type="hidden" name="token" value="${escape(token)}"><button type="submit">Open Airlock</button></form>
<script>document.forms[0].submit();</script>
</body></html>
`,
    { mode: 0o600 },
  );
  return { file, url: pathToFileURL(file).href, remove: () => rm(dir, { recursive: true, force: true }) };
}
