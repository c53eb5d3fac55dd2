// The few HTML pages Airlock serves (the edge's sign-in results, the dev IdP's form): one escaper
// and one document shell, so every dynamic value is escaped the same way everywhere.

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A complete page: no script, no external assets; `title` is escaped, `style` and `body` are the caller's. */
export function htmlDocument(title: string, style: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${style}</style>
</head>
<body><main>${body}</main></body>
</html>`;
}
