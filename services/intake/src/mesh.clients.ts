import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { crmsync, nurture, routing, scoring } from '@leadmesh/contracts';
import { CONFIG, createClient, type PlatformConfig } from '@leadmesh/platform';

/** The services intake asks, as itself, for their part of a lead's journey. */
@Injectable()
export class MeshClients implements OnModuleDestroy {
  readonly scoring;
  readonly routing;
  readonly nurture;
  readonly crmSync;

  constructor(@Inject(CONFIG) config: PlatformConfig) {
    const options = { timeoutMs: config.rpcDeadlineMs, token: config.serviceToken };
    this.scoring = createClient(scoring.ScoringService, config.peer('scoring'), options);
    this.routing = createClient(routing.RoutingService, config.peer('routing'), options);
    this.nurture = createClient(nurture.NurtureService, config.peer('nurture'), options);
    this.crmSync = createClient(crmsync.CrmSyncService, config.peer('crm-sync'), options);
  }

  onModuleDestroy(): void {
    for (const client of [this.scoring, this.routing, this.nurture, this.crmSync]) client.close();
  }
}
