// Builds the tracker for browsers: one minified IIFE, no runtime dependencies. Run by `npm run
// build` (after tsc) and by the size test, which builds it in memory.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const TRACKER_FILE = join(here, 'dist', 'leadmesh-tracker.js');
/** What a website may spend on us: 3 KB gzipped. */
export const MAX_GZIP_BYTES = 3 * 1024;

export async function buildTracker(): Promise<{ code: string; gzipBytes: number }> {
  const result = await build({
    entryPoints: [join(here, 'src', 'tracker.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    // Browsers of the last few years; sendBeacon and IntersectionObserver are older than that.
    target: ['es2019'],
    write: false,
    legalComments: 'none',
  });
  const code = result.outputFiles[0]!.text;
  return { code, gzipBytes: gzipSync(code, { level: 9 }).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { code, gzipBytes } = await buildTracker();
  if (gzipBytes > MAX_GZIP_BYTES) throw new Error(`tracker is ${gzipBytes} bytes gzipped, over ${MAX_GZIP_BYTES}`);
  mkdirSync(dirname(TRACKER_FILE), { recursive: true });
  writeFileSync(TRACKER_FILE, code);
}
