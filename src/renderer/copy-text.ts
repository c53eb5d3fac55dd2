// Copying to the clipboard, and saying so; where the page may not write the clipboard, the toast
// shows the text to copy by hand. Shared by the window and the tray panel.
export async function copyText(
  text: string,
  said: string,
  notify: (message: string) => void,
  /** For a block of several lines: say where it goes instead of repeating it in the toast. */
  hint?: string,
): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    notify(hint ? `Copied ${said}. ${hint}` : `Copied ${said}: ${text}`);
  } catch {
    notify(`Copy this: ${text}`);
  }
}
