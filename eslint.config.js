import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { checkEveryFolderPlaced, layerRules } from './eslint.layers.js';

checkEveryFolderPlaced(import.meta.dirname);

export default tseslint.config(
  // .pinned/: the copy scripts/pinned-checkout.sh builds with the pinned Node (its own dist/).
  { ignores: ['dist/', 'node_modules/', 'models/onnx/', '.pinned/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  ...layerRules(),
  {
    // Which better-sqlite3 loads depends on the Node (daemon/store/sqlite.ts): the wrong one crashes.
    files: ['**/*.ts'],
    ignores: ['daemon/store/sqlite.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: ['better-sqlite3', 'better-sqlite3-napi9'].map((name) => ({ name, allowTypeImports: true, message: 'open databases with Sqlite from daemon/store/sqlite.ts: it picks the binding this Node can load' })) },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // The web console's page runs in a browser.
    files: ['daemon/web/static/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(['document', 'window', 'location', 'fetch', 'URL', 'URLSearchParams', 'FileReader', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'].map((g) => [g, 'readonly'])),
    },
  },
);
