import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { checkEveryFolderPlaced, layerRules } from './eslint.layers.js';

checkEveryFolderPlaced(import.meta.dirname);

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'models/onnx/'] },
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
);
