// Loaded with `node --import` so tracing is running before any library is imported.
import { startTelemetry } from '@leadmesh/platform/telemetry';

startTelemetry('scoring');
