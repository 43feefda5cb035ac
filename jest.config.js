// One jest for the monorepo, on ESM. Unit specs sit beside the code (src/**/*.spec.ts); tests that
// need the real servers sit in each package's test/ and in test/ at the root. The `stack` project
// runs the five services as processes and so runs alone (--runInBand).
const swc = ['@swc/jest', {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2023',
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
}];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@leadmesh/(contracts|platform|client)$': '<rootDir>/packages/$1/src/index.ts',
    '^@leadmesh/platform/telemetry$': '<rootDir>/packages/platform/src/telemetry/start.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // Tests connect to the local NATS as its admin user (scripts/infra.sh makes the credentials).
  setupFiles: ['<rootDir>/test/harness/nats-env.ts'],
};

export default {
  testTimeout: 30_000,
  projects: [
    {
      ...common,
      displayName: 'fast',
      testMatch: [
        '<rootDir>/{packages,services}/*/src/**/*.spec.ts',
        '<rootDir>/{packages,services}/*/test/**/*.test.ts',
        '<rootDir>/test/contracts/**/*.test.ts',
        '<rootDir>/test/deploy/**/*.test.ts',
      ],
      testPathIgnorePatterns: [...common.testPathIgnorePatterns, '\\.stack\\.test\\.ts$'],
    },
    {
      ...common,
      displayName: 'stack',
      // Tests that start services as processes (*.stack.test.ts, and test/e2e) run one at a time.
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts', '<rootDir>/test/examples/**/*.stack.test.ts', '<rootDir>/test/chaos/**/*.stack.test.ts', '<rootDir>/test/hostile/**/*.stack.test.ts', '<rootDir>/{packages,services}/*/test/**/*.stack.test.ts'],
    },
  ],
};
