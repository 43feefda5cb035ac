// One jest for the monorepo, on ESM. Unit specs sit beside the code (src/**/*.spec.ts); tests that
// need the real servers sit in each package's test/ and in test/ at the root.
const swc = ['@swc/jest', {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2023',
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
}];

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@leadmesh/(contracts|platform)$': '<rootDir>/packages/$1/src/index.ts',
    '^@leadmesh/platform/telemetry$': '<rootDir>/packages/platform/src/telemetry/start.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/{packages,services}/*/src/**/*.spec.ts', '<rootDir>/{packages,services}/*/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 30_000,
};
