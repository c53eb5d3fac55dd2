// "Create desktop shortcut" for a resource: a file that opens airlock://connect/NAME. The content is
// pure; the writer only ever writes one file, with a sanitised name, directly inside the given folder.
import { chmodSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { deepLinkFor } from './deep-link.js';

export type ShortcutPlatform = 'linux' | 'darwin' | 'win32';

export interface ShortcutRequest {
  name: string;
  /** The Airlock executable; Linux and Windows shortcuts start it with the link. */
  executable: string;
  icon?: string;
}

/** What Electron's shell.writeShortcutLink(path, 'create', options) needs on Windows. */
export interface WindowsShortcut {
  fileName: string;
  options: { target: string; args: string; description: string; icon?: string; iconIndex?: number };
}

export interface FileShortcut {
  fileName: string;
  content: string;
  /** .desktop files must be executable for desktops to trust them. */
  mode: number;
}

/** A file name that is safe on every platform: no separators, no leading dot, no reserved characters. */
export function safeFileName(name: string): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9._ -]/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[. ]+|[. ]+$/g, '')
    .slice(0, 64);
  const base = cleaned || 'resource';
  // Windows refuses device names whatever the extension.
  return /^(con|prn|aux|nul|com\d|lpt\d)$/i.test(base) ? `${base}_` : base;
}

/** Desktop Entry spec, "The Exec key": quote each argument and escape what the shell would read; % doubles. */
function desktopExecArgument(argument: string): string {
  return `"${argument.replace(/(["`$\\])/g, '\\$1').replace(/%/g, '%%')}"`;
}

function desktopValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}

function xmlEscape(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function linuxDesktopEntry({ name, executable, icon }: ShortcutRequest): FileShortcut {
  const link = deepLinkFor('connect', name);
  const lines = [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.0',
    `Name=${desktopValue(`Connect ${name}`)}`,
    `Comment=${desktopValue(`Open ${name} through Airlock`)}`,
    `Exec=${desktopExecArgument(executable)} ${desktopExecArgument(link)}`,
    ...(icon ? [`Icon=${desktopValue(icon)}`] : []),
    'Terminal=false',
    'Categories=Network;',
  ];
  return { fileName: `Airlock - ${safeFileName(name)}.desktop`, content: `${lines.join('\n')}\n`, mode: 0o755 };
}

export function macWebloc({ name }: ShortcutRequest): FileShortcut {
  const content = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '\t<key>URL</key>',
    `\t<string>${xmlEscape(deepLinkFor('connect', name))}</string>`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
  return { fileName: `Airlock - ${safeFileName(name)}.webloc`, content, mode: 0o644 };
}

export function windowsShortcut({ name, executable, icon }: ShortcutRequest): WindowsShortcut {
  return {
    fileName: `Airlock - ${safeFileName(name)}.lnk`,
    options: {
      target: executable,
      args: deepLinkFor('connect', name),
      description: `Connect ${name} through Airlock`,
      ...(icon ? { icon, iconIndex: 0 } : {}),
    },
  };
}

/** Where a file named `fileName` goes inside `directory`, refusing anything that would land elsewhere. */
export function shortcutPath(directory: string, fileName: string): string {
  if (basename(fileName) !== fileName || fileName.startsWith('.'))
    throw new Error(`unsafe shortcut file name "${fileName}"`);
  const path = resolve(directory, fileName);
  if (resolve(path, '..') !== resolve(directory)) throw new Error(`shortcut would be written outside ${directory}`);
  return path;
}

/**
 * Writes the shortcut for `platform` into `directory` and returns its path. Windows needs Electron's
 * shell.writeShortcutLink, passed in as `writeWindowsLink` by the main process.
 */
export function writeShortcut(
  platform: ShortcutPlatform,
  directory: string,
  request: ShortcutRequest,
  writeWindowsLink?: (path: string, options: WindowsShortcut['options']) => boolean,
): string {
  if (platform === 'win32') {
    const shortcut = windowsShortcut(request);
    const path = shortcutPath(directory, shortcut.fileName);
    if (!writeWindowsLink || !writeWindowsLink(path, shortcut.options)) throw new Error(`could not create ${path}`);
    return path;
  }
  const shortcut = platform === 'darwin' ? macWebloc(request) : linuxDesktopEntry(request);
  const path = shortcutPath(directory, shortcut.fileName);
  writeFileSync(path, shortcut.content, { mode: shortcut.mode });
  chmodSync(path, shortcut.mode);
  return path;
}
