// Links the UI asks to open go to the system browser only when they are plain https:// URLs:
// never file:, javascript:, custom schemes (which could launch other programs) or credentials.
export function isSafeExternalUrl(text: string): boolean {
  if (typeof text !== 'string' || text.length > 2048 || /[\u0000-\u001f\u007f\s]/.test(text)) return false;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && url.hostname !== '' && !url.username && !url.password;
}
