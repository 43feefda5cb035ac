// Bundles the single-page app (web/) with esbuild into dist/public, beside the compiled server that
// serves it. Run by `npm run build` after tsc, and by the image build.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist', 'public');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'web', 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
for (const file of ['index.html', 'styles.css']) copyFileSync(join(here, 'web', file), join(out, file));
