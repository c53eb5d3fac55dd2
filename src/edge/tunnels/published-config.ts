// The edge's working configuration: edge.yaml plus the routes operators created. Apps in
// the file without tunnel/service get them from the route store; store tunnels join the file's.
// Rebuilt only when the store changes, so the per-connection path reads a ready Map.
import { parseServiceUrl } from '../../shared/host.js';
import type { EdgeRefusal } from '../../shared/edge-response.js';
import type { AppConfig, EdgeConfig } from '../config/config.js';
import type { RouteStore } from './route-store.js';

export function publishedConfig(base: EdgeConfig, store: RouteStore): () => EdgeConfig {
  let cached: { version: number; publicUrl: string; value: EdgeConfig } | undefined;
  return () => {
    if (cached && cached.version === store.version && cached.publicUrl === base.publicUrl) return cached.value;
    cached = { version: store.version, publicUrl: base.publicUrl, value: merge(base, store) };
    return cached.value;
  };
}

function merge(base: EdgeConfig, store: RouteStore): EdgeConfig {
  const apps = new Map(base.apps);
  const unpublishedApps = new Map(base.unpublishedApps);
  const tunnels = new Map(base.tunnels);
  for (const tunnel of store.tunnels())
    if (!tunnels.has(tunnel.id)) tunnels.set(tunnel.id, { id: tunnel.id, secretHash: tunnel.secretHash });
  for (const route of store.routes()) {
    const app = unpublishedApps.get(route.hostname);
    const service = parseServiceUrl(route.service);
    // A route whose app left edge.yaml publishes nothing: the file decides what is protected.
    if (!app || !service) continue;
    const published: AppConfig = {
      ...app,
      tunnel: route.tunnelId,
      service,
      serviceAuthority: route.service.slice('tcp://'.length),
    };
    apps.set(route.hostname, published);
    unpublishedApps.delete(route.hostname);
  }
  return { ...base, apps, unpublishedApps, tunnels };
}

/** 503 for an app declared in edge.yaml that no route publishes yet; undefined otherwise. */
export function unpublishedRefusal(config: EdgeConfig, hostname: string | undefined): EdgeRefusal | undefined {
  if (!hostname || !config.unpublishedApps.has(hostname)) return undefined;
  return {
    error: 'no_connector',
    message: `${hostname} is not published yet: no tunnel serves it (an operator publishes it with \`airlock tunnel --hostname ${hostname} --url tcp://HOST:PORT\`)`,
  };
}
