// ESLint flat config: `npm run lint` (scripts/lint.sh) runs it with the
// dependency and dead-code checks. Type-aware rules cover the TypeScript
// (service, actors, tests, benchmarks, scripts); the status page is plain
// browser JavaScript and gets the non-type-aware rules only.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Globals the status page (src/http/statusPage/*.js) uses in the browser. */
const browserGlobals = {
  window: 'readonly',
  document: 'readonly',
  location: 'readonly',
  history: 'readonly',
  fetch: 'readonly',
  EventSource: 'readonly',
  URL: 'readonly',
  URLSearchParams: 'readonly',
  HTMLElement: 'readonly',
  Node: 'readonly',
  sessionStorage: 'readonly',
  Intl: 'readonly',
  console: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
  setInterval: 'readonly',
  clearInterval: 'readonly',
  requestAnimationFrame: 'readonly',
  performance: 'readonly',
  Date: 'readonly',
};

/** Globals Node provides to the config files at the repository root. */
const nodeGlobals = {
  process: 'readonly',
  console: 'readonly',
  module: 'writable',
  require: 'readonly',
  __dirname: 'readonly',
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', '.bench/'] },

  // TypeScript everywhere: type-aware, through the TypeScript project service
  // (one program for the whole tsconfig.json, so no per-file tsconfig lookups).
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        // `_name` marks a parameter an interface requires but this implementation ignores.
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      // Off: an `async` function without `await` is how this code implements
      // a Promise-returning interface (SourceHandler.handle, SessionStore,
      // OpsSource), so that a `throw` inside becomes a rejection as callers
      // expect; rewriting them as `Promise.resolve(...)` would make those
      // throws synchronous.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports' },
      ],
    },
  },

  // Tests read the service's JSON answers as `any` and check their shape with
  // chai. Casting each body to the service's own types would let the compiler
  // vouch for the very shape the test is there to check, so the `any` rules
  // are off here (and only here); the promise rules stay on.
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  // The status page: ES modules served as they are to the browser.
  {
    files: ['src/http/statusPage/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: browserGlobals },
  },

  // Config files at the root run in Node.
  {
    files: ['*.js', '*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: nodeGlobals },
  },
  { files: ['*.cjs'], languageOptions: { sourceType: 'commonjs' } },
);
