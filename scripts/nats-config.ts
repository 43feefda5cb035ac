// Writes the NATS servers' `authorization` blocks from the one table of who publishes and consumes
// what (packages/platform/src/nats/permissions.ts): deploy/local/nats-authorization.conf (which
// also admits LEADMESH_NAMESPACE's test streams) and deploy/k8s/infrastructure/nats/authorization.conf
// (every stream named exactly). Run after changing the table (needs `npm run build`):
//   node scripts/nats-config.ts
// test/deploy/nats.test.ts fails while a file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderAuthorization } from '../packages/platform/dist/nats/permissions.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const AUTHORIZATION_FILES = {
  local: { path: join(root, 'deploy/local/nats-authorization.conf'), text: () => renderAuthorization({ namespaces: true }) },
  k8s: { path: join(root, 'deploy/k8s/infrastructure/nats/authorization.conf'), text: () => renderAuthorization({ namespaces: false }) },
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const { path, text } of Object.values(AUTHORIZATION_FILES)) writeFileSync(path, text());
}
