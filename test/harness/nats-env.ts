// jest setup: tests and the tools they use connect to the local NATS as its admin user (the
// services each get their own user from test/harness/stack.ts).
import { natsUserEnv } from './nats.ts';

for (const [key, value] of Object.entries(natsUserEnv('admin'))) process.env[key] ??= value;
