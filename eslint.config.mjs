// @ts-check
// `npm run lint` (with --max-warnings 0, then `prettier --check .`).
// TypeScript is linted with type information: typescript-eslint's project
// service gives each file the tsconfig.json an editor would (the root one,
// or examples/web-client's for the example's sources). Plain JavaScript
// (.js, .mjs: Jest's config and global setup, two scripts, this file) is
// linted without it. Formatting is Prettier's alone: eslint-config-prettier
// comes last and turns off every rule it would fight.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier/flat';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores([
    'dist/',
    'coverage/',
    '.data/',
    'test-results/',
    // Written by `npm run generate`, never by hand.
    'src/generated/',
    'examples/web-client/src/generated/',
    // What benchmarks wrote (reports and CPU profiles), and a vendored schema.
    'bench/results/',
    'test/fixtures/',
  ]),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Off: every async function without await here meets a contract that wants a promise (Apollo's plugin hooks, gateway and KeyValueCache, Fastify's hooks, the response cache's Store, tests' lists of async factories).
      '@typescript-eslint/require-await': 'off',
      // Forwarding a rejection caught as `unknown` (withinDeadline) is not rejecting with a non-Error.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // A variable assigned after a closure that reads it (main.ts's openRedis, closed if a later step of the start fails) cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // A leading underscore says "unused on purpose" (a parameter a signature
      // requires, an element skipped in a destructuring, an ignored error).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      // Jest's asymmetric matchers (expect.any, expect.stringContaining, ...) are typed `any` by design, so every expected
      // object holding one is an "unsafe" assignment or argument. Reading an `any` (no-unsafe-member-access, -call,
      // -return) is still an error in tests.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    // The mutation files' server is started and closed in one place; a file that starts its own writes that setup again.
    files: ['test/integration/api/mutation-*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '../../support/api.js',
              importNames: ['startTestApi'],
              message: "Call useMutationApi() from '../../support/mutation-api.js' at the file's top level: the mutation files share that setup.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
    rules: {
      // typescript-eslint's version (above) already covers these files.
      'no-unused-vars': 'off',
    },
  },
  {
    // dependency-cruiser reads its configuration as CommonJS.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
  prettier,
);
