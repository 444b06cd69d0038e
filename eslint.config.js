// ESLint for the TypeScript sources (`npm run lint`, part of `npm test`). Type-aware where it pays:
// a promise nobody awaits loses its error, so floating and misused promises are errors, and `void`
// does not excuse one — a deliberate fire-and-forget carries a `.catch` that logs. The rest is
// typescript-eslint's recommended set; formatting is left alone.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['node_modules/', 'cdk.out/', '.cahoots/', 'coverage/', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // Errors are Error subclasses, so callers can tell them apart with instanceof.
      '@typescript-eslint/only-throw-error': 'error',
      // `return promise` inside try skips the catch and finally when the promise rejects.
      '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
      eqeqeq: ['error', 'smart'],
      // A leading underscore marks a value left out on purpose (`const { secret: _secret, ...rest } = x`).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Library code logs through the Powertools logger (lib/powertools.ts); the CLI prints through its Output.
    files: ['lib/**/*.ts', 'functions/**/*.ts', 'infra/**/*.ts'],
    rules: {
      'no-console': 'error',
      // `import { z }` makes esbuild keep all of zod, every locale included (~370 KB more in each
      // Lambda bundle); the namespace import lets it drop what the code never touches.
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='zod'][importKind='value'] > ImportSpecifier[imported.name='z'][importKind='value']",
          message: "Use `import * as z from 'zod'`: the named import keeps all of zod in every bundle.",
        },
      ],
    },
  },
  {
    // Tests read untyped JSON (CloudFormation templates, wire bodies of the fakes) by navigating it;
    // production code parses the same data with zod instead.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
