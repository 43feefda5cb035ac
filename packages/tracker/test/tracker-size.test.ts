// The tracker a website embeds stays small and self-contained: built with esbuild as the build
// does, minified, under 3 KB gzipped, with nothing imported at run time.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_GZIP_BYTES, buildTracker } from '../build.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');

describe('the browser tracker bundle', () => {
  it('is under 3 KB gzipped and has no imports or requires left', async () => {
    const { code, gzipBytes } = await buildTracker();
    expect(gzipBytes).toBeLessThanOrEqual(MAX_GZIP_BYTES);
    expect(gzipBytes).toBeGreaterThan(500); // it did build the whole tracker, not an empty file
    expect(code).not.toMatch(/\brequire\(|\bimport[ (]/);
    // What the site and the tests rely on is in it: the beacon door, the consent call, GPC.
    for (const part of ['/v1/activities', '/v1/personalization', 'sendBeacon', 'globalPrivacyControl', 'lm_vid']) expect(code).toContain(part);
  });

  it('type-checks against the DOM library', () => {
    execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(here, '..', 'tsconfig.json')], { stdio: 'pipe' });
  });
});
