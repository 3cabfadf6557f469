import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import noFirestoreOutsideTenancy from './scripts/eslint/no-firestore-outside-tenancy.js';

export default tseslint.config(
  { ignores: ['node_modules/', 'build/', '.local/', 'coverage/', 'terraform/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['functions/src/**/*.ts'],
    plugins: {
      provenant: { rules: { 'no-firestore-outside-tenancy': noFirestoreOutsideTenancy } },
    },
    rules: { 'provenant/no-firestore-outside-tenancy': 'error' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
  },
  { files: ['**/*.mjs'], languageOptions: { sourceType: 'module' } },
);
