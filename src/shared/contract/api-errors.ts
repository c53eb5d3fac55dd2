// The only error shape that crosses a transport. Its codes are declared, with what each means and
// what to do, in the error catalogue (src/shared/contract/error-catalogue.ts).
import type { ApiErrorCode } from './error-catalogue.js';

export type { ApiErrorCode, ErrorCode } from './error-catalogue.js';

/** The only error shape that crosses a transport; `fields` maps a form field to its message. */
export interface ApiErrorBody {
  code: ApiErrorCode | string;
  message: string;
  fields?: Record<string, string>;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode | string,
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
  toBody(): ApiErrorBody {
    return { code: this.code, message: this.message, ...(Object.keys(this.fields).length ? { fields: this.fields } : {}) };
  }
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiErrorBody };

export function toErrorBody(error: unknown): ApiErrorBody {
  if (error instanceof ApiError) return error.toBody();
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
    return { code: (error as Error & { code: string }).code, message: error.message };
  }
  return { code: 'FAILED', message: error instanceof Error ? error.message : String(error) };
}
