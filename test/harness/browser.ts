// A real browser for the tests: Debian's chromium driven by playwright-core, since Playwright's own
// browser download cannot reach its host from our machines. scripts/test.sh installs the package.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

const script = join(dirname(fileURLToPath(import.meta.url)), '../../scripts/chromium.sh');

export function chromiumPath(): string {
  return process.env.LEADMESH_CHROMIUM ?? execFileSync('bash', [script], { encoding: 'utf8' }).trim();
}

export async function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
}
