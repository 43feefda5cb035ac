import { Module } from '@nestjs/common';
import { PlatformModule } from '@leadmesh/platform';
import { IntakeGrpc } from './intake.grpc.js';
import { IntakeService } from './intake.service.js';
import { LeadStore } from './lead.store.js';
import { WebFormController } from './web-form.controller.js';

@Module({
  imports: [PlatformModule.forService('intake')],
  controllers: [WebFormController],
  providers: [LeadStore, IntakeService, IntakeGrpc],
})
export class IntakeModule {}
