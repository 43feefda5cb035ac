// An in-process IntakeService double on a free port whose answers each test scripts, to observe
// what the client sends (metadata, deadlines, retries) without the real services.
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { intake } from '@leadmesh/contracts';
import { grpcServiceDefinition } from '../src/service-client.js';

export interface Received {
  request: intake.SubmitLeadRequest;
  metadata: grpc.Metadata;
  deadline: grpc.Deadline;
  at: number;
}

/** Answer for the n-th call (0-based): a response, an error with optional trailers, or silence. */
export type Script = (n: number, request: intake.SubmitLeadRequest) => { leadId: string } | { code: grpc.status; details: string; trailers?: Record<string, string> } | 'hang';

export interface FakeIntake {
  address: string;
  received: Received[];
  script: Script;
  close(): Promise<void>;
}

export async function startFakeIntake(credentials = grpc.ServerCredentials.createInsecure()): Promise<FakeIntake> {
  const server = new grpc.Server();
  const fake: FakeIntake = { address: '', received: [], script: () => ({ leadId: 'lead-1' }), close: async () => {} };
  const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback({ code: grpc.status.UNIMPLEMENTED, details: 'not in the fake' });
  server.addService(grpcServiceDefinition(intake.IntakeService), {
    submitLead: (call: grpc.ServerUnaryCall<intake.SubmitLeadRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const n = fake.received.length;
      fake.received.push({ request: call.request, metadata: call.metadata, deadline: call.getDeadline(), at: Date.now() });
      const answer = fake.script(n, call.request);
      if (answer === 'hang') return;
      if ('code' in answer) {
        const trailers = new grpc.Metadata();
        for (const [k, v] of Object.entries(answer.trailers ?? {})) trailers.set(k, v);
        return callback({ code: answer.code, details: answer.details, metadata: trailers });
      }
      callback(null, create(intake.SubmitLeadResponseSchema, { leadId: answer.leadId, submissionId: `s-${n}`, outcome: intake.SubmissionOutcome.NEW_LEAD }));
    },
    recordActivity: unimplemented,
    getLead: unimplemented,
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))));
  fake.address = `127.0.0.1:${port}`;
  fake.close = () => new Promise((resolve) => server.tryShutdown(() => resolve()));
  return fake;
}
