// The resource store's backend in the desktop app: electron-store, in the same folder and file as
// browser mode's JSON file, so `airlock ui` and the tray app see the same resources.
import ElectronStore from 'electron-store';
import { RESOURCES_FILE_NAME } from '../app/service/config-dir.js';
import type { StorageBackend, StoreDocument } from '../app/service/resource-store.js';

export class ElectronStoreStorage implements StorageBackend {
  private readonly store: ElectronStore<Record<string, unknown>>;

  constructor(directory: string) {
    this.store = new ElectronStore<Record<string, unknown>>({
      cwd: directory,
      name: RESOURCES_FILE_NAME.replace(/\.json$/, ''),
      clearInvalidConfig: false,
    });
  }

  read(): unknown {
    const data = this.store.store;
    return Object.keys(data).length === 0 ? undefined : data;
  }

  write(document: StoreDocument): void {
    this.store.store = document as unknown as Record<string, unknown>;
  }
}
