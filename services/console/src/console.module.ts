import { Module } from '@nestjs/common';
import { createLogger, LOGGER } from '@leadmesh/platform';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiRoutes } from './api.routes.js';
import { AuthController } from './auth.controller.js';
import { loadConsoleOptions, type ConsoleOptions } from './console.options.js';
import { ConsoleService } from './console.service.js';
import { MeshClients } from './mesh.clients.js';
import { OidcClient } from './oidc.client.js';
import { PrometheusClient } from './prometheus.client.js';
import { SessionSealer } from './session.js';
import { CONSOLE_OPTIONS } from './tokens.js';

// The single-page app is bundled next to the compiled server (scripts of services/console/web).
const publicDir = join(dirname(fileURLToPath(import.meta.url)), 'public');

@Module({
  controllers: [AuthController],
  providers: [
    { provide: CONSOLE_OPTIONS, useFactory: () => loadConsoleOptions(process.env, publicDir) },
    { provide: LOGGER, useFactory: () => createLogger('console') },
    { provide: SessionSealer, useFactory: (options: ConsoleOptions) => new SessionSealer(options.sessionSecret), inject: [CONSOLE_OPTIONS] },
    OidcClient,
    MeshClients,
    PrometheusClient,
    ConsoleService,
    ApiRoutes,
  ],
})
export class ConsoleModule {}
