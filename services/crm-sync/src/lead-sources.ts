import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { status, type ServiceError } from '@grpc/grpc-js';
import { intake, nurture, routing, scoring } from '@leadmesh/contracts';
import { CONFIG, createClient, type PlatformConfig } from '@leadmesh/platform';

/**
 * What crm-sync knows of a lead it asks the owning services for, over gRPC: it never reads
 * their databases.
 */
@Injectable()
export class LeadSources implements OnModuleDestroy {
  readonly intake;
  readonly scoring;
  readonly routing;
  readonly nurture;

  constructor(@Inject(CONFIG) config: PlatformConfig) {
    // crm-sync calls as itself: its own identity token (LEADMESH_SERVICE_TOKEN) carries leads:read.
    const options = { timeoutMs: config.rpcDeadlineMs, token: config.serviceToken };
    this.intake = createClient(intake.IntakeService, config.peer('intake'), options);
    this.scoring = createClient(scoring.ScoringService, config.peer('scoring'), options);
    this.routing = createClient(routing.RoutingService, config.peer('routing'), options);
    this.nurture = createClient(nurture.NurtureService, config.peer('nurture'), options);
  }

  /** The lead's parts as their owners hold them now; a part its owner does not have yet is undefined. */
  async gather(leadId: string) {
    const [lead, score, assignment, nurtureState] = await Promise.all([
      optional(this.intake.getLead({ leadId }).then((r) => r.lead)),
      optional(this.scoring.getLeadScore({ leadId }).then((r) => r.score)),
      optional(this.routing.getAssignment({ leadId }).then((r) => r.assignment)),
      this.nurture.getEnrollments({ leadId }),
    ]);
    return {
      lead,
      score,
      assignment,
      enrollments: nurtureState.enrollments,
      // Only an unsubscribe withdraws consent in the CRM; a bounce or a missing consent is not the contact's choice.
      unsubscribedInNurture: nurtureState.suppressed && /unsubscri/i.test(nurtureState.suppressionReason),
    };
  }

  onModuleDestroy(): void {
    for (const client of [this.intake, this.scoring, this.routing, this.nurture]) client.close();
  }
}

async function optional<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if ((err as ServiceError).code === status.NOT_FOUND) return undefined;
    throw err;
  }
}
