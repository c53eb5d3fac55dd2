// The layering rules (docs/architecture.md "Source layout"), enforced on every import. Only these
// rules run: formatting is Prettier's job and the type checks are tsc's.
import tseslint from 'typescript-eslint';

/** Imports that reach one of `folders` by going up `depth` levels or more (`../`, `../../`, …). */
const upInto = (folders, depth = 1) => `^(\\.\\./){${depth},}(${folders.join('|')})/`;
const ELECTRON = '^electron(/|$)';

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
  // The renderer runs in a sandboxed page: the browser-safe contract, React and zod, nothing else.
  layer(
    ['src/renderer/**'],
    [
      [
        '^\\.\\./(?!shared/contract/)',
        'the renderer imports only src/shared/contract (the one API contract), never engine or Node code',
      ],
      ['^(?!react(-dom)?(/|$)|zod$|\\.\\.?/)', 'the renderer uses only react, react-dom and zod from npm'],
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
  layer(
    ['src/edge/**'],
    [
      [
        upInto(['core', 'app', 'connector', 'cli', 'idp', 'main', 'preload', 'renderer']),
        'the edge imports only src/shared',
      ],
      [ELECTRON, 'electron only in src/main and src/preload'],
    ],
  ),
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
