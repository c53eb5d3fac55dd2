// Exposes exactly the UI contract (an ApiTransport) to the sandboxed renderer, nothing more:
// no ipcRenderer, no Node. The main process validates every call again.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC, isApiMethodName } from '../shared/contract/api-channels.js';
import type { ApiEvent, ApiResult, ApiTransport } from '../shared/contract/api.js';

const transport: ApiTransport = {
  invoke(method, params): Promise<ApiResult<unknown>> {
    if (!isApiMethodName(method))
      return Promise.resolve({
        ok: false,
        error: { code: 'UNKNOWN_METHOD', message: `unknown call "${String(method).slice(0, 40)}"` },
      });
    return ipcRenderer.invoke(IPC.invoke, method, params);
  },
  subscribe(listener) {
    const handler = (_event: IpcRendererEvent, event: ApiEvent) => listener(event);
    ipcRenderer.on(IPC.event, handler);
    return () => {
      ipcRenderer.removeListener(IPC.event, handler);
    };
  },
};

contextBridge.exposeInMainWorld('airlock', transport);
