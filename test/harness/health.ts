// Waits on grpc.health.v1 like a Kubernetes probe would.
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';

const definition = grpc.loadPackageDefinition(loadSync(protoPath, { keepCase: true, enums: String })) as any;

export async function healthStatus(address: string, service = ''): Promise<string> {
  const client = new definition.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  try {
    return await new Promise<string>((resolve) => {
      client.Check({ service }, { deadline: Date.now() + 1000 }, (err: grpc.ServiceError | null, res: { status: string }) =>
        resolve(err ? `ERROR ${grpc.status[err.code]}` : res.status),
      );
    });
  } finally {
    client.close();
  }
}

export async function waitServing(address: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await healthStatus(address);
    if (last === 'SERVING') return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${address} not SERVING after ${timeoutMs} ms (last: ${last})`);
}
