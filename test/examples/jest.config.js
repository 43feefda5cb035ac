// Runs test/examples (and the CLI's stack test) until the root jest.config.js lists test/examples
// in its `stack` project:  npm run jest -- -c test/examples/jest.config.js --runInBand
import { fileURLToPath } from 'node:url';
import root from '../../jest.config.js';

const rootDir = fileURLToPath(new URL('../..', import.meta.url));
const stack = root.projects.find((p) => p.displayName === 'stack');
export default {
  ...root,
  rootDir,
  projects: [{ ...stack, rootDir, testMatch: ['<rootDir>/test/examples/**/*.stack.test.ts', '<rootDir>/packages/cli/test/**/*.stack.test.ts'] }],
};
