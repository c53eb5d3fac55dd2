// The only error shape that crosses a transport. Its codes are declared, with what each means and
// what to do, in the error catalogue (src/shared/contract/error-catalogue.ts).
import { isErrorCode, type ErrorCode } from './error-catalogue.js';

export type { ApiErrorCode, ErrorCode } from './error-catalogue.js';

/** `code` is an AirlockError's or one of the API's own; `fields` maps a form field to its message. */
export interface ApiErrorBody {
  code: ErrorCode;
  message: string;
  fields?: Record<string, string>;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
  toBody(): ApiErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(Object.keys(this.fields).length ? { fields: this.fields } : {}),
    };
  }
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiErrorBody };

/** Any failure as the envelope carries it; a code the catalogue does not declare travels as FAILED. */
export function toErrorBody(error: unknown): ApiErrorBody {
  if (error instanceof ApiError) return error.toBody();
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return { code: isErrorCode(code) ? code : 'FAILED', message: error instanceof Error ? error.message : String(error) };
}
