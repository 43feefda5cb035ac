// Baseline 1: a bare @grpc/grpc-js unary server answering IntakeService/SubmitLead with protobuf-es
// messages and nothing else (no validation, store, broker or tracing): the ceiling of the gRPC layer
// on this machine. Runs in its own process; prints "ready" once listening.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { intake } from '../packages/contracts/dist/index.js';

const address = process.argv[2] ?? '127.0.0.1:50650';
const server = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
let n = 0;

server.addService(
  {
    SubmitLead: {
      path: '/leadmesh.intake.v1.IntakeService/SubmitLead',
      requestStream: false,
      responseStream: false,
      requestDeserialize: (bytes: Buffer) => fromBinary(intake.SubmitLeadRequestSchema, bytes),
      requestSerialize: (msg: intake.SubmitLeadRequest) => Buffer.from(toBinary(intake.SubmitLeadRequestSchema, msg)),
      responseSerialize: (msg: intake.SubmitLeadResponse) => Buffer.from(toBinary(intake.SubmitLeadResponseSchema, msg)),
      responseDeserialize: (bytes: Buffer) => fromBinary(intake.SubmitLeadResponseSchema, bytes),
    },
  },
  {
    SubmitLead: (call: grpc.ServerUnaryCall<intake.SubmitLeadRequest, intake.SubmitLeadResponse>, callback: grpc.sendUnaryData<intake.SubmitLeadResponse>) => {
      n++;
      callback(null, create(intake.SubmitLeadResponseSchema, { leadId: call.request.idempotencyKey, submissionId: String(n), outcome: intake.SubmissionOutcome.NEW_LEAD, receivedAt: timestampNow() }));
    },
  },
);

server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) {
    console.error(err.message);
    process.exit(1);
  }
  console.log('ready');
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
