import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  // Type-checked: a floating promise, a promise where a callback must return void, an `any` leaking in.
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Ports are promise-returning; an implementation with nothing to await stays `async` so a throw is a rejection.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Only the HTTP layer knows HTTP: the domain, operations and adapters log through shared/logging.
    files: ['shared/domain/**', 'shared/operations/**', 'shared/adapters/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)http(/|$)',
              message: 'The domain, operations and adapters must not import shared/http: use shared/logging (Log, RequestContext, describe); operations return data, and the HTTP layer maps it to a status (answerOf).',
            },
          ],
        },
      ],
    },
  },
  {
    // Closures handed around as plain functions (hooks, stores, fakes): no `this` to lose there.
    files: ['web/**', 'test/**', 'bench/**', 'dev/**'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    // Preact event attributes may be async: the page's handlers catch their own errors.
    files: ['web/**'],
    rules: { '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }] },
  },
  {
    // Jest's asymmetric matchers (expect.any, objectContaining) are typed `any`; tests assert on them.
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
);
