// Both transports' halves of a call: validation at the boundary, the service-side dispatch with
// its error envelope, and the typed client over any transport (preload or browser WebSocket).
import { API_METHODS, requestSchemas, type ApiMethod, type ApiValidParams } from './api-schemas.js';
import type { AirlockApi, ApiEvent, ApiService } from './api-types.js';
import { ApiError, toErrorBody, type ApiResult } from './api-errors.js';
import { failureForWindow } from './plain-text.js';

/** Browser mode: the frames the WebSocket carries. */
export interface SocketRequest {
  id: number;
  method: string;
  params?: unknown;
}
export type SocketMessage = ({ id: number } & ApiResult<unknown>) | { event: ApiEvent };

export function isApiMethod(value: unknown): value is ApiMethod {
  return typeof value === 'string' && Object.hasOwn(requestSchemas, value);
}

/** Validates one call; throws ApiError INVALID_INPUT with a message per field. */
export function validateRequest<M extends ApiMethod>(method: M, params: unknown): ApiValidParams<M> {
  if (!isApiMethod(method)) throw new ApiError('UNKNOWN_METHOD', `unknown call "${String(method)}"`);
  const result = requestSchemas[method].safeParse(params);
  if (result.success) return result.data as ApiValidParams<M>;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const path = issue.path.filter((part) => typeof part !== 'symbol').join('.') || '_';
    fields[path.replace(/^changes\./, '')] ??= issue.message;
  }
  const summary = Object.entries(fields)
    .map(([field, message]) => (field === '_' ? message : `${field}: ${message}`))
    .join('; ');
  throw new ApiError('INVALID_INPUT', `invalid ${method}: ${summary}`, fields);
}

/** Runs one call against a service with validation and the error envelope; used by both transports. */
export async function dispatch(service: ApiService, method: unknown, params: unknown): Promise<ApiResult<unknown>> {
  try {
    if (!isApiMethod(method)) throw new ApiError('UNKNOWN_METHOD', `unknown call "${String(method).slice(0, 40)}"`);
    const valid = validateRequest(method, params);
    const call = service[method] as (params: unknown) => Promise<unknown>;
    const value = await call.call(service, valid);
    return { ok: true, value: value ?? null };
  } catch (error) {
    // The caller is the window: the engine's CLI advice (flags, commands) stays out of it.
    return { ok: false, error: failureForWindow(toErrorBody(error)) };
  }
}

/** What a transport must do; preload's window.airlock and the browser WebSocket both are one. */
export interface ApiTransport {
  invoke(method: ApiMethod, params: unknown): Promise<ApiResult<unknown>>;
  subscribe(listener: (event: ApiEvent) => void): () => void;
}

/** Typed client over any transport: checks params before sending, unwraps the envelope into values or ApiError. */
export function createApiClient(transport: ApiTransport): AirlockApi {
  const client: Record<string, unknown> = {
    onEvent: (listener: (event: ApiEvent) => void) => transport.subscribe(listener),
  };
  for (const method of API_METHODS) {
    client[method] = async (params?: unknown) => {
      validateRequest(method, params);
      const result = await transport.invoke(method, params);
      if (result.ok) return result.value ?? undefined;
      throw new ApiError(result.error.code, result.error.message, result.error.fields ?? {});
    };
  }
  return client as AirlockApi;
}
