// The icons the window draws (lucide-react: plain inline SVG, so the strict CSP is untouched).
import { Database, Layers, Monitor, Network, Terminal, type LucideIcon } from 'lucide-react';
import type { ResourceFields } from '../shared/contract/api.js';

const KIND_ICONS: Record<ResourceFields['kind'], LucideIcon> = {
  ssh: Terminal,
  postgres: Database,
  redis: Layers,
  rdp: Monitor,
  other: Network,
};

export const KIND_NAMES: Record<ResourceFields['kind'], string> = {
  ssh: 'SSH',
  postgres: 'PostgreSQL',
  redis: 'Redis',
  rdp: 'Remote Desktop',
  other: 'Other TCP',
};

/** A resource's kind as an icon; its name is for screen readers and the tooltip. */
export function KindIcon({ kind }: { kind: ResourceFields['kind'] }) {
  const Icon = KIND_ICONS[kind];
  return (
    <span className="kind-icon" title={KIND_NAMES[kind]}>
      <Icon size={16} aria-hidden="true" focusable="false" />
      <span className="visually-hidden">{KIND_NAMES[kind]}</span>
    </span>
  );
}
