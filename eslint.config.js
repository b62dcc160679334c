import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
