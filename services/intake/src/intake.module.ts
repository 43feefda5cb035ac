import { Module } from '@nestjs/common';
import { PlatformModule } from '@leadmesh/platform';
import { ErasureStore } from './erasure.store.js';
import { IntakeConsumer } from './intake.consumer.js';
import { IntakeGrpc } from './intake.grpc.js';
import { JourneyService } from './journey.service.js';
import { MeshClients } from './mesh.clients.js';
import { IntakeService } from './intake.service.js';
import { INTAKE_SETTINGS, loadIntakeSettings } from './intake.settings.js';
import { LeadStore } from './lead.store.js';
import { WebFormController } from './web-form.controller.js';
import { BeaconController } from './beacon.controller.js';
import { RateLimits } from './rate-limits.js';
import { PersonalizationService } from './personalization.service.js';
import { PublicKeyRegistry } from './public-keys.provider.js';

@Module({
  imports: [PlatformModule.forService('intake')],
  controllers: [WebFormController, BeaconController],
  providers: [
    { provide: INTAKE_SETTINGS, useFactory: () => loadIntakeSettings() },
    LeadStore,
    ErasureStore,
    MeshClients,
    IntakeService,
    JourneyService,
    IntakeGrpc,
    IntakeConsumer,
    PublicKeyRegistry,
    RateLimits,
    PersonalizationService,
  ],
})
export class IntakeModule {}
