// The ssh_config block that makes OpenSSH reach a host through Airlock (ProxyCommand, like
// `cloudflared access ssh-config`). Pure and browser-safe: the CLI prints it, the tray copies it.

export interface SshConfigOptions {
  /** The Host line's pattern: one hostname, or a wildcard such as *.example.com (ssh_config(5) PATTERNS). */
  hostPattern: string;
  /** How to run airlock, one word per element, e.g. ['/usr/bin/node', '/opt/airlock/bin/airlock.js']. */
  command: readonly string[];
  /** Extra options for `airlock access ssh` (e.g. ['--edge', URL]); none when a profile remembers the edge. */
  extraArguments?: readonly string[];
}

/**
 * ssh runs ProxyCommand with the user's shell (`exec COMMAND`), so each word is quoted for sh when
 * needed; %h is ssh's own token for the hostname being reached and is left bare.
 */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function sshConfigBlock({ hostPattern, command, extraArguments = [] }: SshConfigOptions): string {
  const proxy = [...command, 'access', 'ssh', '--hostname', '%h', ...extraArguments].map(shellWord).join(' ');
  return `Host ${hostPattern}\n  ProxyCommand ${proxy}\n`;
}
