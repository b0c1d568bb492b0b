// typescript-eslint's recommended rules (no type information: fast enough to run on every commit).
// Formatting is Prettier's job (npm run format); this file only holds rules the code meets.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.cache/', '.lab/', 'results/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // `_name` marks a parameter a signature needs but the body does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // One catalogue holds scenarios whose parameter types differ; a parameter type is contravariant, so only `any` admits them all.
    files: ['src/run/scenarios/registry.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The command's entry is CommonJS on purpose (see bin/lab.cjs).
    files: ['bin/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The fuzz tests edit generated lab files as free-form JSON at arbitrary paths: there is no type to give them.
    files: ['test/fuzz/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
