// Live state from the core: loaded once, then kept current by the event stream.
import { useCallback, useEffect, useState } from 'react';
import type { EdgeSession, LogEntry, Resource, ResourceStatus, Settings } from '../shared/contract/api.js';
import type { Client } from './api-client.js';

export interface AirlockState {
  loaded: boolean;
  connected: boolean;
  resources: Resource[];
  statuses: Map<string, ResourceStatus>;
  sessions: EdgeSession[];
  settings: Settings;
  logs: LogEntry[];
}

const LOG_KEEP = 500;

export function useAirlock(
  client: Client,
): AirlockState & { reload: () => Promise<void>; showSettings: (changes: Partial<Settings>) => void } {
  const [state, setState] = useState<AirlockState>({
    loaded: false,
    connected: true,
    resources: [],
    statuses: new Map(),
    sessions: [],
    settings: { startAtLogin: false, autoConnect: [], theme: 'system', resume: true },
    logs: [],
  });

  const reload = useCallback(async () => {
    const [resources, status, settings, logs] = await Promise.all([
      client.api.listResources(),
      client.api.getStatus(),
      client.api.getSettings(),
      client.api.getLogs({ limit: LOG_KEEP }),
    ]);
    setState((previous) => ({
      ...previous,
      loaded: true,
      resources,
      statuses: new Map(status.resources.map((entry) => [entry.id, entry])),
      sessions: status.sessions,
      settings,
      logs,
    }));
  }, [client]);

  useEffect(() => {
    const unsubscribe = client.api.onEvent((event) => {
      setState((previous) => {
        switch (event.type) {
          case 'status':
            return {
              ...previous,
              statuses: new Map(event.data.resources.map((entry) => [entry.id, entry])),
              sessions: event.data.sessions,
            };
          case 'resources':
            return { ...previous, resources: event.data };
          case 'settings':
            return { ...previous, settings: event.data };
          case 'log':
            return { ...previous, logs: [...previous.logs.slice(-(LOG_KEEP - 1)), event.data] };
        }
      });
    });
    const offConnection = client.onConnection((connected) => {
      setState((previous) => ({ ...previous, connected }));
      if (connected) void reload().catch(() => {});
    });
    void reload().catch(() => setState((previous) => ({ ...previous, connected: false })));
    return () => {
      unsubscribe();
      offConnection();
    };
  }, [client, reload]);

  /** Shows a settings change at once (controls stay responsive); the 'settings' event then confirms or corrects it. */
  const showSettings = useCallback(
    (changes: Partial<Settings>) =>
      setState((previous) => ({ ...previous, settings: { ...previous.settings, ...changes } })),
    [],
  );

  return { ...state, reload, showSettings };
}
