// The JSON body the edge sends with every refusal, so the client can tell the user why.

export type EdgeRefusalCode =
  | 'app_not_found'
  | 'access_denied'
  | 'auth_required'
  | 'no_connector'
  | 'origin_failed'
  | 'bad_request'
  | 'upgrade_required'
  | 'rate_limited'
  | 'too_many_streams'
  | 'idp_unreachable'
  | 'sso_disabled'
  | 'internal';

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
