import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { checkEveryFolderPlaced, layerRules, layersPlugin } from './eslint.layers.js';

checkEveryFolderPlaced(import.meta.dirname);

// A parameter property of a derived class is assigned by tsc's output at the top of the
// constructor unless super() is the constructor's own statement: a super() inside an if/else
// then throws "Must call super constructor" in dist/ only (tsx compiles it the other way), and
// tsc says nothing. typescript-eslint's parameter-properties rule cannot tell derived classes
// apart (it would forbid them in every class), so the selector forbids them wherever a class
// extends another: declare the field and assign it after super().
const NO_PARAMETER_PROPERTIES_IN_DERIVED = {
  selector: ':matches(ClassDeclaration, ClassExpression)[superClass] > ClassBody > MethodDefinition[kind="constructor"] > FunctionExpression > TSParameterProperty',
  message: 'no parameter properties in a class that extends another: tsc assigns them before a super() that is not the first statement, which crashes the build only; declare the field and assign it after super()',
};

export default tseslint.config(
  // .pinned/: the copy scripts/pinned-checkout.sh builds with the pinned Node (its own dist/).
  // .built/: the tests compiled by tsc for `run-tests --built`.
  // daemon/web/static/app.js: the console page's bundle, built from daemon/web/ui/ (linted there).
  { ignores: ['dist/', 'node_modules/', 'models/onnx/', '.pinned/', '.built/', 'daemon/web/static/app.js', 'daemon/web/static/display.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      'no-restricted-syntax': ['error', NO_PARAMETER_PROPERTIES_IN_DERIVED],
    },
  },
  { plugins: { layers: layersPlugin } },
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
    // The web console's page runs in a browser (its types come from daemon/web/ui/tsconfig.json's DOM lib).
    files: ['daemon/web/ui/**/*.{ts,tsx}'],
    rules: {
      // Data goes into the page as text only: Preact escapes children and attributes, never this prop.
      'no-restricted-syntax': ['error', NO_PARAMETER_PROPERTIES_IN_DERIVED, { selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']", message: 'put data in the page as text: the console never renders markup from data' }],
      'no-restricted-properties': ['error', { property: 'innerHTML', message: 'put data in the page as text (textContent, JSX children)' }, { property: 'outerHTML', message: 'put data in the page as text' }],
    },
  },
);
