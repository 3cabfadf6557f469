// Four projects: `unit` needs nothing running; `emulators` starts the project's own emulators
// in-process (on ephemeral ports) and talks to them through the official clients; `integration`
// needs the whole local stack, which `npm test` (scripts/local/test.ts) starts and stops;
// `resilience` kills function processes of that stack and injects faults, so it runs on a
// stack of its own (`npm run test:resilience`), never beside the other suites (`npm test`
// leaves it out).
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };
// Every project's tests get the same time budget (test/support/time-budget.ts says why).
const common = {
  testEnvironment: 'node',
  transform,
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFilesAfterEnv: ['<rootDir>/test/support/time-budget.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'emulators', testMatch: ['<rootDir>/test/emulators/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: [
        '<rootDir>/test/integration/**/*.test.ts',
        '<rootDir>/test/rules/**/*.test.ts',
        '<rootDir>/test/e2e/**/*.test.ts',
      ],
      setupFiles: ['<rootDir>/test/support/stack-env.ts'],
    },
    {
      ...common,
      displayName: 'resilience',
      testMatch: ['<rootDir>/test/resilience/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/support/stack-env.ts'],
    },
  ],
};
