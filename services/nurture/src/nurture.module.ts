import { Module } from '@nestjs/common';
import { PlatformModule } from '@leadmesh/platform';
import { EnrollmentStore } from './enrollment.store.js';
import { NurtureConsumer } from './nurture.consumer.js';
import { NurtureGrpc } from './nurture.grpc.js';
import { NurtureService } from './nurture.service.js';
import { TrackRegistry } from './track.registry.js';

@Module({
  imports: [PlatformModule.forService('nurture')],
  providers: [TrackRegistry, EnrollmentStore, NurtureService, NurtureGrpc, NurtureConsumer],
})
export class NurtureModule {}
