// Runs test/chaos and test/hostile until the root jest.config.js lists them in its `stack` project
// ('<rootDir>/test/{chaos,hostile}/**/*.stack.test.ts'):
//   npm run jest -- -c test/chaos/jest.config.js --runInBand [test/chaos | test/hostile]
import { fileURLToPath } from 'node:url';
import root from '../../jest.config.js';

const rootDir = fileURLToPath(new URL('../..', import.meta.url));
const stack = root.projects.find((p) => p.displayName === 'stack');
export default {
  ...root,
  rootDir,
  projects: [{ ...stack, rootDir, testMatch: ['<rootDir>/test/chaos/**/*.stack.test.ts', '<rootDir>/test/hostile/**/*.stack.test.ts'] }],
};
