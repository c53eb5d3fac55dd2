// Where the tray popover goes: next to the tray icon, on the side away from the screen edge the
// icon sits on, and always inside the work area. Pure, so it is tested without a screen.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const POPOVER_SIZE = { width: 360, height: 480 } as const;

/**
 * `icon` is the tray icon's rectangle (empty on most Linux desktops, which do not report it: then
 * the pointer, where the click happened, stands in for it). A menu bar at the top opens the
 * popover downwards; a taskbar at the bottom opens it upwards.
 */
export function popoverPosition(
  icon: Rect,
  pointer: { x: number; y: number },
  workArea: Rect,
  size: { width: number; height: number } = POPOVER_SIZE,
): { x: number; y: number } {
  const anchor = icon.width > 0 && icon.height > 0 ? icon : { x: pointer.x, y: pointer.y, width: 0, height: 0 };
  const centreX = anchor.x + anchor.width / 2;
  const below = anchor.y + anchor.height / 2 < workArea.y + workArea.height / 2;
  const gap = 4;
  const x = Math.round(centreX - size.width / 2);
  const y = below ? anchor.y + anchor.height + gap : anchor.y - size.height - gap;
  return {
    x: clamp(x, workArea.x, workArea.x + workArea.width - size.width),
    y: clamp(Math.round(y), workArea.y, workArea.y + workArea.height - size.height),
  };
}

function clamp(value: number, low: number, high: number): number {
  return Math.max(low, Math.min(value, Math.max(low, high)));
}
