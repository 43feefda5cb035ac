// Loaded with `node --import` so tracing is running before any library is imported: the browser's
// call and the gRPC calls it makes are one trace.
import { startTelemetry } from '@leadmesh/platform/telemetry';

startTelemetry('console');
