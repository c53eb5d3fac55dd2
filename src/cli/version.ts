// The version users quote in bug reports and troubleshooting compares with the edge's: read once
// from package.json, which sits two folders up from both src/cli (tsx) and dist/cli (built).
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function airlockVersion(): string {
  if (cached === undefined) {
    try {
      const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version?: unknown;
      };
      cached = typeof manifest.version === 'string' ? manifest.version : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
