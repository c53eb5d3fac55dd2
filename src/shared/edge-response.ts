// The JSON body the edge sends with every refusal, so the client can tell the user why. The codes
// are declared, with what each means, in src/shared/contract/error-catalogue.ts.
import type { EdgeRefusalCode } from './contract/error-catalogue.js';

export type { EdgeRefusalCode };

export interface EdgeRefusal {
  error: EdgeRefusalCode;
  message: string;
}

export function isEdgeRefusal(value: unknown): value is EdgeRefusal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as EdgeRefusal).error === 'string' &&
    typeof (value as EdgeRefusal).message === 'string'
  );
}
