// The Resources view's order: one section per edge, the resources that need the user first in
// each (an error, a sign-in, signed out), then those in use, then ready, then off; A–Z within.
import type { Resource, ResourceStatus } from '../shared/contract/api.js';
import { rank } from './plain-words.js';

export interface EdgeGroup {
  edge: string;
  resources: Resource[];
  /** Its best rank: sections that need the user come first. */
  rank: number;
}

export function groupByEdge(resources: Resource[], statuses: Map<string, ResourceStatus>): EdgeGroup[] {
  const rankOf = (resource: Resource) => rank(statuses.get(resource.id)?.state ?? 'off');
  const groups = new Map<string, Resource[]>();
  for (const resource of resources) {
    const edge = statuses.get(resource.id)?.edge ?? resource.edge ?? `https://${resource.hostname}`;
    groups.set(edge, [...(groups.get(edge) ?? []), resource]);
  }
  return (
    [...groups]
      .map(([edge, members]) => {
        const sorted = [...members].sort((a, b) => rankOf(a) - rankOf(b) || a.name.localeCompare(b.name));
        return { edge, resources: sorted, rank: Math.min(...sorted.map(rankOf)) };
      })
      // Sections move only for what needs the user, so they do not jump about as connections come and go.
      .sort((a, b) => Number(a.rank > 1) - Number(b.rank > 1) || a.edge.localeCompare(b.edge))
  );
}
