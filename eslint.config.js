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
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // The web console's page runs in a browser.
    files: ['daemon/web/static/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(['document', 'window', 'location', 'fetch', 'URL', 'URLSearchParams', 'FileReader', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'prompt'].map((g) => [g, 'readonly'])),
    },
  },
);
