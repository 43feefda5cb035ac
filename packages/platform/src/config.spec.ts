import { loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults to the local ports and the service database', () => {
    const config = loadConfig('crm-sync', {});
    expect(config.grpcPort).toBe(50055);
    expect(config.mongoDatabase).toBe('leadmesh_crm_sync');
    expect(config.mongoUrl).toBe('mongodb://127.0.0.1:27017/');
    expect(config.peer('intake')).toBe('127.0.0.1:50051');
  });

  it('prefers the service its own database URI over the shared one', () => {
    const config = loadConfig('scoring', { MONGO_URL: 'mongodb://shared/', SCORING_MONGO_URL: 'mongodb://own/', ROUTING_GRPC_ADDR: 'routing:50053' });
    expect(config.mongoUrl).toBe('mongodb://own/');
    expect(config.peer('routing')).toBe('routing:50053');
  });

  it('rejects a port that is not a number, naming the variable', () => {
    expect(() => loadConfig('intake', { GRPC_PORT: 'abc' })).toThrow(/GRPC_PORT/);
  });
});
