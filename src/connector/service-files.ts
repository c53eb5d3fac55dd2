// The files that keep a connector running at boot, built as plain text by pure
// functions: a systemd unit (Linux), a launchd plist (macOS), sc.exe commands (Windows). The
// tunnel token never appears in a command line: systemd reads it from an EnvironmentFile, launchd
// and Windows from the tokenFile of a connector.yaml, each readable only by the service's owner.
import { NODE_FLAGS } from '../shared/node-flags.js';

export interface ServiceSpec {
  /** Tunnel name; the service is airlock-NAME. */
  name: string;
  hostname: string;
  edge: string;
  /** tcp://HOST:PORT of the origin. */
  url: string;
  nodePath: string;
  airlockBin: string;
}

export type ServicePlatform = 'linux' | 'darwin' | 'win32';

/** Where install puts things on each platform; the token file is 0600 (owner root, or the service user). */
export function servicePaths(platform: ServicePlatform, name: string) {
  const safe = serviceName(name);
  if (platform === 'linux') {
    return {
      definition: `/etc/systemd/system/${safe}.service`,
      dir: '/etc/airlock',
      secrets: `/etc/airlock/${safe}.env`,
      ca: `/etc/airlock/${safe}-ca.pem`,
    };
  }
  if (platform === 'darwin') {
    const dir = '/Library/Application Support/Airlock';
    return {
      definition: `/Library/LaunchDaemons/dev.airlock.${safe}.plist`,
      dir,
      secrets: `${dir}/${safe}.token`,
      ca: `${dir}/${safe}-ca.pem`,
      config: `${dir}/${safe}.yaml`,
    };
  }
  const dir = 'C:\\ProgramData\\Airlock';
  return {
    definition: `${dir}\\${safe}.cmd`,
    dir,
    secrets: `${dir}\\${safe}.token`,
    ca: `${dir}\\${safe}-ca.pem`,
    config: `${dir}\\${safe}.yaml`,
  };
}

/** airlock-NAME with anything outside [A-Za-z0-9_.-] turned into "-" (unit and label safe). */
export function serviceName(name: string): string {
  return `airlock-${name.replace(/[^A-Za-z0-9_.-]/g, '-')}`;
}

/** systemd.service(5). Hardened; DynamicUser gives a fresh unprivileged user per start. */
export function buildSystemdUnit(spec: ServiceSpec, paths: { secrets: string; ca?: string }): string {
  const args = [
    spec.nodePath,
    ...NODE_FLAGS,
    spec.airlockBin,
    'tunnel',
    'run',
    '--edge',
    spec.edge,
    '--url',
    spec.url,
    ...(paths.ca ? ['--ca', paths.ca] : []),
  ];
  // ProtectHome=yes would hide an airlock installed under a home directory from the service.
  const underHome = [spec.nodePath, spec.airlockBin].some((path) => /^\/(home|root|run\/user)\//.test(path));
  return `[Unit]
Description=${systemdText(`Airlock connector for ${spec.hostname} (tunnel ${spec.name})`)}
Documentation=https://github.com/airlock/airlock/blob/main/docs/host.md
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart=${args.map(systemdQuote).join(' ')}
# The tunnel token, as AIRLOCK_TUNNEL_TOKEN; the file is root's, mode 0600.
EnvironmentFile=${systemdQuote(paths.secrets)}
Restart=always
RestartSec=5
# A ceiling on the connector's memory, native buffers included (--max-old-space-size covers only the
# JS heap): a runaway is killed and restarted instead of taking the host down.
MemoryMax=2G
# The connector drains streams for up to 30 s after SIGTERM.
TimeoutStopSec=40
DynamicUser=yes
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=${underHome ? 'read-only' : 'yes'}
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
CapabilityBoundingSet=
AmbientCapabilities=
SystemCallArchitectures=native
UMask=0077

[Install]
WantedBy=multi-user.target
`;
}

export function buildEnvironmentFile(token: string): string {
  return `AIRLOCK_TUNNEL_TOKEN=${token}\n`;
}

/** connector.yaml for launchd and Windows, whose service definitions cannot carry a secret safely. */
export function buildConnectorYaml(spec: ServiceSpec, paths: { secrets: string; ca?: string }): string {
  const quote = (text: string) => JSON.stringify(text);
  return [
    `# ${oneLine(`Airlock connector for ${spec.hostname} (tunnel ${spec.name})`)}, written by \`airlock service install\`.`,
    `edge: ${quote(spec.edge)}`,
    `tokenFile: ${quote(paths.secrets)}`,
    ...(paths.ca ? [`ca: ${quote(paths.ca)}`] : []),
    'ingress:',
    `  - { hostname: ${quote(spec.hostname)}, service: ${quote(spec.url)} }`,
    '  - { service: "http_status:404" }',
    '',
  ].join('\n');
}

/** launchd.plist(5): a system daemon, restarted whenever it exits, as the unprivileged "nobody". */
export function buildLaunchdPlist(spec: ServiceSpec, paths: { config: string }): string {
  const label = `dev.airlock.${serviceName(spec.name)}`;
  const args = [spec.nodePath, ...NODE_FLAGS, spec.airlockBin, 'tunnel', 'run', '--config', paths.config];
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${xml(label)}</string>
  <key>ProgramArguments</key>
  <array>
${args.map((arg) => `    <string>${xml(arg)}</string>`).join('\n')}
  </array>
  <key>UserName</key>
  <string>nobody</string>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <true/>
  <key>ThrottleInterval</key>
  <integer>5</integer>
  <key>ExitTimeOut</key>
  <integer>40</integer>
  <key>StandardErrorPath</key>
  <string>/Library/Logs/${xml(serviceName(spec.name))}.log</string>
</dict>
</plist>
`;
}

/**
 * sc.exe commands for an elevated prompt. node.exe does not speak the Windows service protocol,
 * so binPath goes through a service wrapper (WinSW, NSSM) when one is named; plain sc.exe alone
 * registers a service that Windows stops after 30 s.
 */
export function buildWindowsCommands(
  spec: ServiceSpec,
  paths: { config: string; secrets: string },
  wrapper?: string,
): string {
  const name = serviceName(spec.name);
  const command = `"${windowsText(spec.nodePath)}" ${NODE_FLAGS.join(' ')} "${windowsText(spec.airlockBin)}" tunnel run --config "${windowsText(paths.config)}"`;
  const binPath = wrapper ? `"${windowsText(wrapper)}" ${command}` : command;
  return [
    `sc.exe create ${name} binPath= "${binPath.replace(/"/g, '\\"')}" start= delayed-auto obj= "NT AUTHORITY\\LocalService" DisplayName= "${windowsText(`Airlock connector (${spec.name})`)}"`,
    `sc.exe description ${name} "${windowsText(`Airlock connector for ${spec.hostname}`)}"`,
    `sc.exe failure ${name} reset= 86400 actions= restart/5000/restart/5000/restart/5000`,
    `icacls "${windowsText(paths.secrets)}" /inheritance:r /grant:r "NT AUTHORITY\\LocalService:R" "BUILTIN\\Administrators:F"`,
    `sc.exe start ${name}`,
    '',
  ].join('\r\n');
}

/**
 * One escaper per format, for every value written into it (systemd.syntax(7), XML 1.0, cmd.exe):
 * no value can end a line, a quote or a string early, or expand to something else.
 */

/** A systemd word: quoted when needed; "%" is a specifier, written "%%"; no control characters. */
export function systemdQuote(word: string): string {
  const escaped = oneLine(word).replace(/%/g, '%%');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Free text in a systemd setting (Description=): one line, no specifiers, no backslash that could continue it. */
export function systemdText(text: string): string {
  return oneLine(text).replace(/\\/g, '/').replace(/%/g, '%%');
}

/** Text inside a double-quoted cmd.exe argument: no quote to end it, no %VARIABLE% to expand. */
export function windowsText(text: string): string {
  return oneLine(text).replace(/"/g, "'").replace(/%/g, '%%');
}

/** Control characters (newlines above all) become spaces. */
function oneLine(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, ' ');
}

export function xml(text: string): string {
  return oneLine(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
