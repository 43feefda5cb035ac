// Each service's Dockerfile: linted with hadolint, and read instruction by instruction to check what
// the deployment relies on. The container's command must be the package's own `npm start`, which
// is what the local suite runs, so the two cannot drift apart.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { GRPC_PORTS, HTTP_PORTS, METRICS_PORTS, SERVICES, hadolint, k8sTools, repoRoot, type Tools } from './k8s-tools.js';

interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    const continued = line.endsWith('\\');
    pending += (pending ? ' ' : '') + (continued ? line.slice(0, -1) : line).trim();
    if (!continued) {
      if (pending.trim()) logical.push(pending.trim());
      pending = '';
    }
  }
  let stage = -1;
  return logical.map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    if (keyword.toUpperCase() === 'FROM') stage++;
    return { keyword: keyword.toUpperCase(), args: rest.join(' '), stage };
  });
}

const execForm = (args: string): string[] => JSON.parse(args.replace(/^--\S+\s+/g, '')) as string[];

let tools: Tools;
beforeAll(() => {
  tools = k8sTools();
}, 900_000);

describe.each(SERVICES)('services/%s/Dockerfile', (service) => {
  const path = join(repoRoot, 'services', service, 'Dockerfile');
  const instructions = () => parseDockerfile(readFileSync(path, 'utf8'));
  const finalStage = () => {
    const all = instructions();
    const last = Math.max(...all.map((i) => i.stage));
    return all.filter((i) => i.stage === last);
  };
  const lastOf = (keyword: string) => finalStage().filter((i) => i.keyword === keyword).at(-1);

  test('passes hadolint', () => {
    const { status, output } = hadolint(tools, path);
    expect({ status, output }).toEqual({ status: 0, output: '' });
  });

  test('is multi-stage, installs production dependencies only, and runs as a non-root user', () => {
    const all = instructions();
    expect(all.filter((i) => i.keyword === 'FROM').length).toBeGreaterThanOrEqual(2);
    expect(all.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args) && /--omit=dev\b/.test(i.args))).toBe(true);
    const user = lastOf('USER')?.args ?? 'root';
    expect(user.split(':')[0]).not.toMatch(/^(root|0)$/);
    expect(finalStage()[0]?.args).toMatch(/nodejs24|node:24/);
  });

  test('exposes its gRPC and metrics ports (and its HTTP door: the web form, the unsubscribe link), the ones the Deployment uses', () => {
    const exposed = finalStage().filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map(Number);
    const http = HTTP_PORTS[service];
    const expected = [GRPC_PORTS[service], METRICS_PORTS[service], ...(http ? [http] : [])];
    expect(exposed.sort()).toEqual(expected.sort());
    const deployment = readFileSync(join(repoRoot, 'deploy/k8s/base', service, 'deployment.yaml'), 'utf8');
    for (const port of expected) expect(deployment).toContain(`containerPort: ${port}`);
    // The HTTP server listens on the loopback unless told otherwise, which `docker run -p` cannot reach.
    const env = finalStage().filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    if (http) {
      expect(env).toMatch(new RegExp(`\\bHTTP_PORT=${http}\\b`));
      expect(env).toMatch(/\bHTTP_HOST=0\.0\.0\.0\b/);
    } else {
      expect(env).not.toMatch(/\bHTTP_PORT=/);
    }
  });

  test('its command is exactly the package start script, run from the service folder', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'services', service, 'package.json'), 'utf8')) as { scripts: { start: string } };
    expect(execForm(lastOf('CMD')!.args).join(' ')).toBe(pkg.scripts.start);
    expect(execForm(lastOf('ENTRYPOINT')!.args)).toEqual([]);
    expect(lastOf('WORKDIR')?.args).toBe(`/app/services/${service}`);
    // The start script loads dist/telemetry.js first and then dist/main.js, both built from src/.
    for (const source of ['src/telemetry.ts', 'src/main.ts']) {
      expect({ source, exists: existsSync(join(repoRoot, 'services', service, source)) }).toEqual({ source, exists: true });
    }
  });

  test('its HEALTHCHECK asks grpc.health.v1 and tells SERVING from NOT_SERVING', async () => {
    const healthcheck = lastOf('HEALTHCHECK')!;
    const command = execForm(healthcheck.args.replace(/^(--\S+\s+)+CMD\s+/, ''));
    expect(command[0]).toBe('node');
    const health = new HealthImplementation({ '': 'SERVING' });
    const server = new grpc.Server();
    health.addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    const check = () =>
      new Promise<number | null>((resolve) => {
        // Run as the image does: node from the service's folder, the port from the environment.
        const child = spawn(process.execPath, command.slice(1), {
          cwd: join(repoRoot, 'services', service),
          env: { ...process.env, GRPC_PORT: String(port) },
          stdio: 'ignore',
        });
        child.on('exit', resolve);
      });
    try {
      expect(await check()).toBe(0);
      health.setStatus('', 'NOT_SERVING');
      expect(await check()).toBe(1);
    } finally {
      server.forceShutdown();
    }
  });
});

describe('the CRM simulator image (dev and qa)', () => {
  const path = join(repoRoot, 'deploy/k8s/components/crm-simulator/Dockerfile');

  test('passes hadolint and runs the fixture as a non-root user', () => {
    expect(hadolint(tools, path)).toEqual({ status: 0, output: '' });
    const instructions = parseDockerfile(readFileSync(path, 'utf8'));
    expect(instructions.filter((i) => i.keyword === 'USER').at(-1)?.args).toBe('65532:65532');
    const cmd = execForm(instructions.filter((i) => i.keyword === 'CMD').at(-1)!.args);
    expect(existsSync(join(repoRoot, 'test/fixtures/crm-simulator', cmd.at(-1)!))).toBe(true);
  });

  test('the build context keeps the fixture and leaves out what images never need', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git', 'test/*', '!test/fixtures/crm-simulator']));
  });
});

describe('services/console/Dockerfile', () => {
  const path = join(repoRoot, 'services', 'console', 'Dockerfile');
  const instructions = () => parseDockerfile(readFileSync(path, 'utf8'));
  const finalStage = () => {
    const all = instructions();
    const last = Math.max(...all.map((i) => i.stage));
    return all.filter((i) => i.stage === last);
  };
  const lastOf = (keyword: string) => finalStage().filter((i) => i.keyword === keyword).at(-1);

  test('passes hadolint, is multi-stage with production dependencies only, runs as a non-root user', () => {
    const { status, output } = hadolint(tools, path);
    expect({ status, output }).toEqual({ status: 0, output: '' });
    const all = instructions();
    expect(all.some((i) => i.keyword === 'RUN' && /build-web\.mjs/.test(i.args))).toBe(true);
    expect(all.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args) && /--omit=dev\b/.test(i.args))).toBe(true);
    expect((lastOf('USER')?.args ?? 'root').split(':')[0]).not.toMatch(/^(root|0)$/);
  });

  test('exposes the port its Deployment uses, on every interface, and runs the package start script', () => {
    const exposed = finalStage().filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map(Number);
    expect(exposed).toEqual([8088]);
    expect(readFileSync(join(repoRoot, 'deploy/k8s/base/console/deployment.yaml'), 'utf8')).toContain('containerPort: 8088');
    const env = finalStage().filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(/\bCONSOLE_HOST=0\.0\.0\.0\b/);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'services', 'console', 'package.json'), 'utf8')) as { scripts: { start: string } };
    expect(execForm(lastOf('CMD')!.args).join(' ')).toBe(pkg.scripts.start);
    expect(lastOf('WORKDIR')?.args).toBe('/app/services/console');
  });
});
