// The headers that prove who the client is (docs/architecture.md "Client ↔ edge"). Never logged.
import { HEADER } from '../shared/constants.js';
import { AirlockError } from '../shared/errors.js';

export type Credential =
  { kind: 'service-token'; id: string; secret: string } | { kind: 'app-token'; token: string } | { kind: 'none' };

export function credentialHeaders(credential: Credential): Record<string, string> {
  switch (credential.kind) {
    case 'service-token':
      return { [HEADER.clientId]: credential.id, [HEADER.clientSecret]: credential.secret };
    case 'app-token':
      return { [HEADER.accessToken]: credential.token };
    case 'none':
      return {};
  }
}

/** `--header 'K: V'` → [K, V]. Refuses names that would let a header smuggle another request. */
export function parseHeaderArgument(text: string): [string, string] {
  const colon = text.indexOf(':');
  const name = colon > 0 ? text.slice(0, colon).trim() : '';
  const value = colon > 0 ? text.slice(colon + 1).trim() : '';
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) {
    throw new AirlockError('BAD_ARGUMENT', `--header "${text}" is not of the form 'Name: value'`);
  }
  return [name, value];
}
