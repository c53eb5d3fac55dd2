// Electron's safeStorage as the token file's encryption (src/core/token-files.ts), for when the
// OS keychain cannot be used through keytar. Call after 'ready': before it, Linux reports no key.
import { safeStorage } from 'electron';
import type { TokenEncryption } from '../core/token-store.js';

/** Where safeStorage keeps its key on Linux, by getSelectedStorageBackend()'s name. */
const LINUX_KEY_STORES: Record<string, string> = {
  gnome_libsecret: 'key in the Secret Service (GNOME Keyring)',
  kwallet: 'key in KWallet',
  kwallet5: 'key in KWallet 5',
  kwallet6: 'key in KWallet 6',
  basic_text: 'a fixed key: no password store was found, so this is no safer than a plain file',
};

export function safeStorageEncryption(): TokenEncryption | undefined {
  if (!safeStorage.isEncryptionAvailable()) return undefined;
  const keptBy =
    process.platform === 'darwin'
      ? 'key in the macOS Keychain'
      : process.platform === 'win32'
        ? 'key protected by Windows (DPAPI)'
        : (LINUX_KEY_STORES[safeStorage.getSelectedStorageBackend()] ??
          `key in ${safeStorage.getSelectedStorageBackend()}`);
  return {
    encrypt: (plain) => safeStorage.encryptString(plain),
    decrypt: (data) => safeStorage.decryptString(data),
    label: `Electron safeStorage, ${keptBy}`,
  };
}
