// The tray icon and its menu; the menu's content comes from src/app/service/tray-menu.ts.
import { Menu, Tray, nativeImage, type MenuItemConstructorOptions } from 'electron';
import {
  buildTrayMenu,
  trayTooltip,
  type TrayCommand,
  type TrayMenuItem,
  type TrayState,
} from '../app/service/tray-menu.js';

export function toElectronMenu(
  items: TrayMenuItem[],
  run: (command: TrayCommand) => void,
): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    switch (item.kind) {
      case 'separator':
        return { type: 'separator' };
      case 'label':
        return { label: item.label, enabled: false };
      case 'item':
        return {
          label: item.label,
          enabled: item.enabled,
          ...(item.sublabel ? { sublabel: item.sublabel } : {}),
          ...(item.checked !== undefined ? { type: 'checkbox' as const, checked: item.checked } : {}),
          click: () => run(item.command),
        };
    }
  });
}

export class AirlockTray {
  private readonly tray: Tray;
  /** The last menu shown, for the _electron specs. */
  lastItems: TrayMenuItem[] = [];

  constructor(
    iconPath: string,
    private readonly run: (command: TrayCommand) => void,
    onClick: () => void,
  ) {
    const image = nativeImage.createFromPath(iconPath);
    if (process.platform === 'darwin') image.setTemplateImage(true);
    this.tray = new Tray(image);
    this.tray.on('click', onClick);
  }

  update(state: TrayState): void {
    this.lastItems = buildTrayMenu(state);
    this.tray.setToolTip(trayTooltip(state));
    this.tray.setContextMenu(Menu.buildFromTemplate(toElectronMenu(this.lastItems, this.run)));
  }

  /** The icon's rectangle on screen (empty where the desktop does not say, as on most Linux trays). */
  bounds(): { x: number; y: number; width: number; height: number } {
    return this.tray.getBounds();
  }

  destroy(): void {
    this.tray.destroy();
  }
}
