// The layering rules (docs/architecture.md "Source layout"), enforced on every import. Only these
// rules run: formatting is Prettier's job and the type checks are tsc's.
import tseslint from 'typescript-eslint';

/** Imports that reach one of `folders` by going up `depth` levels or more (`../`, `../../`, …). */
const upInto = (folders, depth = 1) => `^(\\.\\./){${depth},}(${folders.join('|')})/`;
const ELECTRON = '^electron(/|$)';

const EDGE_OUTER = [
  [
    upInto(['core', 'app', 'connector', 'cli', 'idp', 'main', 'preload', 'renderer']),
    'the edge imports only src/shared',
  ],
  [ELECTRON, 'electron only in src/main and src/preload'],
];

// Each edge folder and the other edge folders it may import, lowest first. state/ implements the
// stores the domain folders declare, so it imports them; only the relay and startEdge reach state/.
const EDGE_FOLDERS = {
  config: [],
  observability: [],
  tokens: [],
  http: ['config'],
  'sign-in': ['config', 'http', 'observability', 'tokens'],
  tunnels: ['config', 'http', 'observability', 'tokens'],
  gateway: ['config', 'http', 'observability', 'tokens', 'sign-in', 'tunnels'],
  admin: ['config', 'http', 'observability', 'tokens', 'sign-in', 'gateway', 'tunnels'],
  state: ['config', 'tokens', 'sign-in', 'gateway', 'tunnels'],
  relay: ['config', 'http', 'observability', 'tokens', 'gateway', 'tunnels', 'state'],
};
const COMPOSITION = ['edge-server', 'edge-router', 'status-endpoints'];

function edgeFolders() {
  const all = Object.keys(EDGE_FOLDERS);
  const top = layer(
    ['src/edge/*.ts'],
    [...EDGE_OUTER, [`^\\./edge-server\\.js$`, 'nothing imports edge-server.ts (startEdge) but the CLI']],
  );
  const folders = all.map((folder) => {
    const banned = all.filter((other) => other !== folder && !EDGE_FOLDERS[folder].includes(other));
    const rules = [
      ...EDGE_OUTER,
      [`^\\.\\./(${COMPOSITION.join('|')})\\.js$`, 'only startEdge composes the edge: its parts never import it'],
    ];
    if (banned.length > 0) {
      rules.push([
        `^\\.\\./(${banned.join('|')})/`,
        `src/edge/${folder} may import only: ${EDGE_FOLDERS[folder].join(', ') || 'src/shared'}`,
      ]);
    }
    return layer([`src/edge/${folder}/**`], rules);
  });
  return [top, ...folders];
}

/** One folder's rule: each entry a regex of import specifiers it may not use, and why. */
function layer(files, forbidden, ignores = []) {
  return {
    files,
    ignores,
    rules: {
      'no-restricted-imports': ['error', { patterns: forbidden.map(([regex, message]) => ({ regex, message })) }],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'e2e/artifacts/**', 'coverage/**'] },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs', '**/*.js'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  // The renderer runs in a sandboxed page: the browser-safe contract, React, zod and lucide-react's
  // icons (plain inline SVG, nothing the CSP blocks), nothing else.
  layer(
    ['src/renderer/**'],
    [
      [
        '^\\.\\./(?!shared/contract/)',
        'the renderer imports only src/shared/contract (the one API contract), never engine or Node code',
      ],
      [
        '^(?!react(-dom)?(/|$)|zod$|lucide-react$|\\.\\.?/)',
        'the renderer uses only react, react-dom, zod and lucide-react from npm',
      ],
    ],
  ),
  layer(
    ['src/preload/**'],
    [
      ['^\\.\\./(?!shared/contract/)', 'the preload exposes only the transport: src/shared/contract'],
      ['^(?!electron$|\\.\\.?/)', 'the preload imports only electron and the contract'],
    ],
  ),
  layer(
    ['src/shared/contract/**'],
    [
      ['^\\.\\./', 'the contract is self-contained: the renderer and preload load it'],
      ['^(?!zod$|\\.\\.?/)', 'the contract is browser-safe: no Node modules, and only zod from npm'],
    ],
  ),
  layer(
    ['src/shared/**'],
    [
      [
        upInto(['core', 'app', 'edge', 'connector', 'cli', 'idp', 'main', 'preload', 'renderer']),
        'src/shared is the bottom layer: it imports nothing above it',
      ],
      [ELECTRON, 'electron only in src/main and src/preload'],
    ],
    ['src/shared/contract/**'],
  ),
  layer(
    ['src/core/**'],
    [
      [
        upInto(['app', 'edge', 'connector', 'cli', 'idp', 'main', 'preload', 'renderer']),
        'the client engine imports only src/shared',
      ],
      [ELECTRON, 'electron only in src/main and src/preload'],
    ],
  ),
  layer(
    ['src/app/**'],
    [
      [
        upInto(['edge', 'connector', 'cli', 'idp', 'main', 'preload', 'renderer'], 2),
        "the desktop app's logic imports only src/core and src/shared",
      ],
      [ELECTRON, 'electron only in src/main and src/preload: src/app runs under plain Node'],
    ],
  ),
  // The edge: only src/shared from outside, and inside, one folder per concept with imports pointing
  // down (docs/architecture.md "Inside the edge"). Flat config keeps only the last matching rule, so
  // each folder's rule repeats the outer one.
  ...edgeFolders(),
  layer(
    ['src/connector/**'],
    [
      [
        upInto(['core', 'app', 'edge', 'cli', 'idp', 'main', 'preload', 'renderer']),
        'the connector imports only src/shared',
      ],
      [ELECTRON, 'electron only in src/main and src/preload'],
    ],
  ),
  layer(
    ['src/idp/**'],
    [
      [
        upInto(['core', 'app', 'edge', 'connector', 'cli', 'main', 'preload', 'renderer']),
        'the built-in IdP imports only src/shared',
      ],
      [ELECTRON, 'electron only in src/main and src/preload'],
    ],
  ),
  layer(
    ['src/cli/**'],
    [
      [upInto(['main', 'preload', 'renderer']), 'the CLI never loads the Electron shell or the renderer'],
      [ELECTRON, 'electron only in src/main and src/preload'],
    ],
  ),
  layer(
    ['src/main/**'],
    [[upInto(['renderer', 'edge', 'connector', 'cli', 'idp']), 'the Electron shell wires src/app and src/core only']],
  ),
);
