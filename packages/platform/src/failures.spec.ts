import { status as grpcStatus } from '@grpc/grpc-js';
import { errors as natsErrors } from '@nats-io/nats-core';
import { JetStreamApiError } from '@nats-io/jetstream';
import mongoose, { Schema } from 'mongoose';
import { InvalidArgumentError, UnavailableError } from './errors.js';
import { PoisonEventError, classifyFailure, isInfrastructureFailure } from './failures.js';

const { mongo } = mongoose;
const serverSelection = () => new mongo.MongoServerSelectionError('Server selection timed out after 2000 ms', { type: 'Unknown', servers: new Map() } as never);
const serverError = (code: number, message = 'server error', errorLabels?: string[]) => new mongo.MongoServerError({ message, code, ...(errorLabels && { errorLabels }) });
const jsApiError = (status: number, errCode: number, description: string) => new JetStreamApiError({ code: status, err_code: errCode, description });

describe('classifyFailure', () => {
  describe('the store cannot be reached: infrastructure', () => {
    it.each([
      ['a network error', new mongo.MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017')],
      ['a socket timeout', new mongo.MongoNetworkTimeoutError('connection 3 to 127.0.0.1:27017 timed out')],
      ['no server to select', serverSelection()],
      ['a client not connected', new mongo.MongoNotConnectedError('Client must be connected before running operations')],
      ['a closed topology', new mongo.MongoTopologyClosedError()],
      ['an operation timeout', new mongo.MongoOperationTimeoutError('Timed out during operation')],
      ['a server shutting down', serverError(91, 'The server is in quiesce mode and will shut down')],
      ['a primary stepping down', serverError(189, 'primary stepped down')],
      ['no writable primary', serverError(10107, 'not primary')],
      ['an error the server labels retryable', serverError(1, 'interrupted', ['RetryableWriteError'])],
    ])('%s', (_what, err) => {
      expect(classifyFailure(err)).toBe('infrastructure');
    });

    it('a driver error from another copy of the driver (matched by name, not by class)', () => {
      const cleared = Object.defineProperty(new Error('Connection pool for 127.0.0.1:27017 was cleared'), 'name', { value: 'MongoPoolClearedError' });
      expect(classifyFailure(cleared)).toBe('infrastructure');
    });

    it('a mongoose model used before its connection ever opened (commands are not buffered)', async () => {
      const connection = mongoose.createConnection();
      const model = connection.model('NeverConnected', new Schema({ name: String }, { bufferCommands: false }));
      const err = await model.findOne({ name: 'x' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(classifyFailure(err)).toBe('infrastructure');
    });

    it('a mongoose command that waited for a first connection in vain (commands buffered)', () => {
      expect(classifyFailure(new mongoose.Error('Operation `contacts.findOne()` buffering timed out after 10000ms'))).toBe('infrastructure');
    });
  });

  describe('the broker cannot be reached: infrastructure', () => {
    it.each([
      ['a request timeout', new natsErrors.TimeoutError()],
      ['a lost connection', new natsErrors.ConnectionError('connection refused')],
      ['a closed connection', new natsErrors.ClosedConnectionError()],
      ['a draining connection', new natsErrors.DrainingConnectionError()],
      ['no responder, as the JetStream client wraps it', new Error('jetstream is not enabled', { cause: new natsErrors.RequestError('no responders', { cause: new natsErrors.NoRespondersError('$JS.API.INFO') }) })],
      ['JetStream temporarily unavailable', jsApiError(503, 10008, 'JetStream system temporarily unavailable')],
      ['the platform client while disconnected', new UnavailableError('event broker (NATS) is not connected')],
    ])('%s', (_what, err) => {
      expect(classifyFailure(err)).toBe('infrastructure');
    });
  });

  it('looks through errors that wrap a store failure with context', () => {
    const wrapped = new Error('could not record the assignment', { cause: new Error('write failed', { cause: new mongo.MongoNetworkError('socket hang up') }) });
    expect(classifyFailure(wrapped)).toBe('infrastructure');
    expect(isInfrastructureFailure(wrapped)).toBe(true);
  });

  describe('the event fails on its own merits', () => {
    it.each([
      ['an undecodable payload', new PoisonEventError('payload is not a valid leadmesh.events.v1.LeadReceived: premature EOF')],
      ['an invalid event', new InvalidArgumentError([{ field: 'lead_id', description: 'value is empty' }], 'event')],
      ['a document the schema refuses', new mongoose.Error.ValidationError()],
      ['a rule that throws', new TypeError("Cannot read properties of undefined (reading 'weight')")],
      ['a plain error', new Error('no owner matches territory DE')],
      ['a duplicate key (the store answered)', serverError(11000, 'E11000 duplicate key error')],
      ['a bad update (the store answered)', serverError(2, 'BadValue')],
      ['another service answering UNAVAILABLE (not this service\'s store or broker)', Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: grpcStatus.UNAVAILABLE })],
      ['a gRPC code that collides with a Mongo code, on a non-Mongo error', Object.assign(new Error('6 ALREADY_EXISTS'), { code: 6 })],
      ['an HTTP call that timed out (another TimeoutError than the broker\'s)', new DOMException('The operation was aborted due to timeout', 'TimeoutError')],
      ['a stream that does not exist (the broker answered)', jsApiError(404, 10059, 'stream not found')],
      ['a thrown non-error', 'boom'],
      ['nothing at all', undefined],
    ])('%s', (_what, err) => {
      expect(classifyFailure(err)).toBe('merit');
    });

    it('a poison event stays a merit whatever it wraps', () => {
      const poison = Object.assign(new PoisonEventError('undecodable'), { cause: new mongo.MongoNetworkError('x') });
      expect(classifyFailure(poison)).toBe('merit');
    });
  });
});
