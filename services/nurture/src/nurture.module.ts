import { Module } from '@nestjs/common';
import { PlatformModule } from '@leadmesh/platform';
import { EnrollmentStore } from './enrollment.store.js';
import { Mailer } from './mailer.js';
import { NurtureConsumer } from './nurture.consumer.js';
import { NurtureGrpc } from './nurture.grpc.js';
import { NurtureScheduler } from './nurture.scheduler.js';
import { NurtureService } from './nurture.service.js';
import { NURTURE_SETTINGS, loadNurtureSettings } from './nurture.settings.js';
import { StepSender } from './step.sender.js';
import { StepStore } from './step.store.js';
import { TrackRegistry } from './track.registry.js';
import { UnsubscribeController } from './unsubscribe.controller.js';

@Module({
  imports: [PlatformModule.forService('nurture')],
  controllers: [UnsubscribeController],
  providers: [
    { provide: NURTURE_SETTINGS, useFactory: () => loadNurtureSettings() },
    TrackRegistry,
    EnrollmentStore,
    StepStore,
    Mailer,
    NurtureService,
    StepSender,
    NurtureScheduler,
    NurtureGrpc,
    NurtureConsumer,
  ],
})
export class NurtureModule {}
