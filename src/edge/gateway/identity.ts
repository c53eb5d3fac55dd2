// Who a request is from, once the edge has verified it.

export type Principal =
  | { kind: 'service-token'; id: string }
  | { kind: 'user'; email: string; sub: string; groups: string[]; sessionId?: string; expiresAt?: Date };

/** Short, log-safe description: never a token or secret. */
export function describePrincipal(principal: Principal | undefined): string {
  if (!principal) return 'anonymous';
  return principal.kind === 'service-token' ? `service-token:${principal.id}` : principal.email;
}
