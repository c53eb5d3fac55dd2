// Checks on saved resources as pure functions: which entries of an imported file (the Export
// button's JSON) are valid resources and which are skipped and why, and the conflicts between them.
import {
  ApiError,
  LIMITS,
  resourceInputSchema,
  type ImportResult,
  type Resource,
  type ResourceFields,
} from '../../shared/contract/api.js';

export type ImportEntry =
  { ok: true; name: string; fields: ResourceFields } | { ok: false; name: string; reason: string };

/** The file Export writes: no ids, so an import into another install makes its own. */
export function exportDocument(resources: Resource[]): string {
  const entries = resources.map(({ id: _id, ...fields }) => fields);
  return `${JSON.stringify({ airlock: 'resources', version: 1, resources: entries }, null, 2)}\n`;
}

/** Each entry of an exported file (or a bare array), validated; at most LIMITS.resources are read. */
export function parseImport(json: string): ImportEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new ApiError('INVALID_INPUT', 'the file is not JSON; export one from Airlock to see the expected shape');
  }
  const entries = Array.isArray(parsed) ? parsed : (parsed as { resources?: unknown })?.resources;
  if (!Array.isArray(entries))
    throw new ApiError('INVALID_INPUT', 'expected { "resources": [ … ] } as written by Export');
  return entries.slice(0, LIMITS.resources).map((entry): ImportEntry => {
    const { id: _ignored, ...fields } = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<
      string,
      unknown
    >;
    const name = typeof fields.name === 'string' ? fields.name.slice(0, LIMITS.nameLength) : '(unnamed)';
    const valid = resourceInputSchema.safeParse(fields);
    if (valid.success) return { ok: true, name, fields: valid.data };
    const issue = valid.error.issues[0]!;
    return { ok: false, name, reason: `${issue.path.join('.') || 'entry'}: ${issue.message}` };
  });
}

/** A new or edited resource may not reuse another's name or local address. */
export function checkConflicts(resource: Resource, resources: Resource[]): void {
  for (const other of resources) {
    if (other.id === resource.id) continue;
    if (other.name.toLowerCase() === resource.name.toLowerCase()) {
      throw new ApiError('CONFLICT', `a resource named "${other.name}" already exists`, {
        name: `"${other.name}" already exists`,
      });
    }
    if (other.localPort === resource.localPort && other.localHost === resource.localHost) {
      throw new ApiError('CONFLICT', `local port ${resource.localPort} is already used by "${other.name}"`, {
        localPort: `port ${resource.localPort} is already used by "${other.name}"`,
      });
    }
  }
}

/** Adds each valid entry with `add` (which refuses conflicts); what was added and what was skipped, and why. */
export async function importEntries(
  entries: ImportEntry[],
  add: (fields: ResourceFields) => Promise<Resource>,
): Promise<ImportResult> {
  const result: ImportResult = { added: [], skipped: [] };
  for (const entry of entries) {
    if (!entry.ok) {
      result.skipped.push({ name: entry.name, reason: entry.reason });
      continue;
    }
    try {
      result.added.push(await add(entry.fields));
    } catch (error) {
      result.skipped.push({ name: entry.name, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return result;
}
