// The layering rules (eslint.config.js; docs/architecture.md "Source layout") refuse an import
// against the layers, and the tree as it is passes them. Run through ESLint's own API, with the
// import placed as if it were in the named file.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

async function problems(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return result!.messages.map((message) => message.message);
}

const refused: Array<[string, string]> = [
  ['src/renderer/Bad.tsx', "import { createTokenStore } from '../core/token-store.js';"],
  ['src/renderer/Bad.tsx', "import { readFileSync } from 'node:fs';"],
  ['src/renderer/Bad.tsx', "import { logger } from '../shared/logger.js';"],
  ['src/preload/bad.ts', "import { ResourceManager } from '../app/service/resource-manager.js';"],
  ['src/shared/contract/bad.ts', "import { AirlockError } from '../errors.js';"],
  ['src/shared/contract/bad.ts', "import { Buffer } from 'node:buffer';"],
  ['src/shared/bad.ts', "import { LocalListener } from '../core/local-listener.js';"],
  ['src/core/bad.ts', "import { ResourceManager } from '../app/service/resource-manager.js';"],
  ['src/core/bad.ts', "import { startEdge } from '../edge/edge-server.js';"],
  ['src/app/service/bad.ts', "import { app } from 'electron';"],
  ['src/app/service/bad.ts', "import { main } from '../../cli/main.js';"],
  ['src/edge/state/bad.ts', "import { Connector } from '../../connector/connector.js';"],
  // Inside the edge: each folder imports only the folders below it (docs/architecture.md "Inside the edge").
  ['src/edge/http/bad.ts', "import { evaluatePolicy } from '../gateway/policy.js';"],
  ['src/edge/config/bad.ts', "import { sendJson } from '../http/json-answer.js';"],
  ['src/edge/tokens/bad.ts', "import { openAuditLog } from '../observability/audit-log.js';"],
  ['src/edge/observability/bad.ts', "import { SigningKeys } from '../tokens/signing-keys.js';"],
  ['src/edge/sign-in/bad.ts', "import { createAdminApi } from '../admin/admin-api.js';"],
  ['src/edge/sign-in/bad.ts', "import { evaluatePolicy } from '../gateway/policy.js';"],
  ['src/edge/sign-in/bad.ts', "import { openPostgresState } from '../state/postgres.js';"],
  ['src/edge/tunnels/bad.ts', "import { createAppGateway } from '../gateway/app-gateway.js';"],
  ['src/edge/gateway/bad.ts', "import { createRelayDialer } from '../relay/edge-relay.js';"],
  ['src/edge/gateway/bad.ts', "import { openPostgresState } from '../state/postgres.js';"],
  ['src/edge/admin/bad.ts', "import { startRelayListener } from '../relay/relay-listener.js';"],
  ['src/edge/state/bad.ts', "import { createEdgeRouter } from '../edge-router.js';"],
  ['src/edge/relay/bad.ts', "import { startEdge } from '../edge-server.js';"],
  ['src/edge/edge-router.ts', "import { startEdge } from './edge-server.js';"],
  ['src/connector/bad.ts', "import { startEdge } from '../edge/edge-server.js';"],
  ['src/cli/commands/bad.ts', "import { createMainWindow } from '../../main/window.js';"],
  ['src/main/bad.ts', "import { startEdge } from '../edge/edge-server.js';"],
];

for (const [file, source] of refused) {
  test(`refused: ${file}: ${source}`, async () => {
    const found = await problems(file, `${source}\n`);
    assert.equal(found.length, 1, `expected one layering error, got ${JSON.stringify(found)}`);
  });
}

const allowed: Array<[string, string]> = [
  [
    'src/renderer/Good.tsx',
    "import { createApiClient } from '../shared/contract/api.js';\nimport { useState } from 'react';",
  ],
  ['src/core/good.ts', "import { AirlockError } from '../shared/errors.js';\nimport net from 'node:net';"],
  [
    'src/app/service/good.ts',
    "import { LocalListener } from '../../core/local-listener.js';\nimport type { Resource } from '../../shared/contract/api.js';",
  ],
  [
    'src/main/good.ts',
    "import { app } from 'electron';\nimport { ResourceManager } from '../app/service/resource-manager.js';",
  ],
  [
    'src/edge/gateway/good.ts',
    "import { loginUrl } from '../sign-in/sign-in-urls.js';\nimport { TunnelRegistry } from '../tunnels/tunnel-registry.js';\nimport { HEADER } from '../../shared/constants.js';",
  ],
  [
    'src/edge/relay/good.ts',
    "import { createAppGateway } from '../gateway/app-gateway.js';\nimport { openPostgresState } from '../state/postgres.js';",
  ],
  ['src/edge/state/good.ts', "import { RevocationList } from '../tokens/revocation-list.js';"],
  ['src/edge/status-endpoints.ts', "import { openPostgresState } from './state/postgres.js';"],
  [
    'src/cli/commands/good.ts',
    "import { startEdge } from '../../edge/edge-server.js';\nimport { startBrowserMode } from '../../app/browser/browser-mode.js';",
  ],
];

for (const [file, source] of allowed) {
  test(`allowed: ${file}`, async () => {
    assert.deepEqual(await problems(file, `${source}\n`), []);
  });
}

test('the tree as it is passes the layering rules', async () => {
  const results = await eslint.lintFiles(['src']);
  const errors = results.flatMap((result) =>
    result.messages.map((message) => `${result.filePath}:${message.line} ${message.message}`),
  );
  assert.deepEqual(errors, []);
});
