// The built-in IdP's sign-in page: one form, no script, no external assets. Pure string builders so
// every value is escaped in exactly one place.
import { escapeHtml, htmlDocument } from '../shared/html.js';

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; background: #f4f5f7; color: #1f2328; margin: 0; }
  main { max-width: 22rem; margin: 12vh auto; background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 3px #0002; }
  h1 { font-size: 1.25rem; margin: 0 0 .25rem; }
  p.app { color: #57606a; margin: 0 0 1.25rem; font-size: .9rem; }
  label { display: block; font-size: .9rem; margin: .75rem 0 .25rem; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; border: 1px solid #d0d7de; border-radius: 6px; }
  button { margin-top: 1.25rem; width: 100%; padding: .6rem; font: inherit; color: #fff; background: #1f6feb; border: 0; border-radius: 6px; cursor: pointer; }
  .error { background: #ffebe9; border: 1px solid #ff818266; color: #82071e; padding: .5rem .75rem; border-radius: 6px; margin-bottom: .5rem; }
  footer { margin-top: 1.5rem; font-size: .75rem; color: #57606a; }
`;

export function page(title: string, body: string): string {
  return htmlDocument(title, STYLE, body);
}

export function loginPage(options: { action: string; clientName: string; email?: string; error?: string }): string {
  const error = options.error ? `<div class="error" role="alert">${escapeHtml(options.error)}</div>` : '';
  return page(
    'Sign in — Airlock dev IdP',
    `<h1>Sign in</h1>
<p class="app">to continue to ${escapeHtml(options.clientName)}</p>
${error}
<form method="post" action="${escapeHtml(options.action)}" autocomplete="on">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" required autofocus value="${escapeHtml(options.email ?? '')}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required>
  <button type="submit">Sign in</button>
</form>
<footer>Airlock built-in identity provider — for development and tests only.</footer>`,
  );
}
