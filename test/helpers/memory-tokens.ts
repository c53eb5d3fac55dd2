// The app's token store kept in memory, for tests that drive the service without a keychain.
// Same contract as the keychain store: clear(edge) forgets one edge, clearIssuer one sign-in domain.
import type { SsoTokenStore } from '../../src/app/service/sso-auth.js';
import { tokenIssuer } from '../../src/core/token-store.js';

export class MemoryTokens implements SsoTokenStore {
  readonly saved = new Map<string, string>();
  async get(edge: string, aud: string) {
    return this.saved.get(`${edge}|${aud}`);
  }
  async set(edge: string, aud: string, token: string) {
    this.saved.set(`${edge}|${aud}`, token);
  }
  async delete(edge: string, aud: string) {
    this.saved.delete(`${edge}|${aud}`);
  }
  async clear(edge?: string) {
    for (const key of [...this.saved.keys()]) if (!edge || key.startsWith(`${edge}|`)) this.saved.delete(key);
  }
  async clearIssuer(issuer: string) {
    for (const [key, token] of [...this.saved]) if (tokenIssuer(token) === issuer) this.saved.delete(key);
  }
}
