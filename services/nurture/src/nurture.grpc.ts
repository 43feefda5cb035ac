import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { nurture } from '@leadmesh/contracts';
import { GrpcServer } from '@leadmesh/platform';
import { NurtureService } from './nurture.service.js';

/** NurtureService over gRPC: translate and delegate. */
@Injectable()
export class NurtureGrpc implements OnModuleInit {
  constructor(
    @Inject(GrpcServer) private readonly grpc: GrpcServer,
    @Inject(NurtureService) private readonly nurture: NurtureService,
  ) {}

  onModuleInit(): void {
    this.grpc.register(nurture.NurtureService, {
      recommendTrack: async (request) => this.nurture.recommendTrack(request),
      getEnrollments: async (request) => this.nurture.getEnrollments(request.leadId),
      listTracks: async () => this.nurture.listTracks(),
      unsubscribe: async (request) => {
        const s = request.subject;
        const result = await this.nurture.unsubscribe(s.case === 'token' ? { token: s.value } : { leadId: s.value });
        return { leadId: result.leadId, unsubscribedAt: timestampFromDate(result.unsubscribedAt) };
      },
    });
  }
}
