// Opens the system browser for sign-in; on a machine without a desktop the URL is printed instead.
import open from 'open';

export async function openSystemBrowser(url: string): Promise<boolean> {
  if (process.env.AIRLOCK_NO_BROWSER === '1') return false;
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return false;
  try {
    const child = await open(url, { wait: false });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
