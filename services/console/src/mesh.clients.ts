import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { crmsync, intake, nurture, parkedevents, routing, scoring } from '@leadmesh/contracts';
import { channelCredentials, createClient, type ServiceClient } from '@leadmesh/platform';
import { Metadata } from '@grpc/grpc-js';
import { CONSOLE_OPTIONS } from './tokens.js';
import { SERVICES, type ConsoleOptions, type ServiceName } from './console.options.js';

/** The services' APIs the console forwards, with the service that serves each. */
export const FORWARDED_APIS: { service: ServiceName; api: GenService<GenServiceMethods> }[] = [
  { service: 'intake', api: intake.IntakeService },
  { service: 'scoring', api: scoring.ScoringService },
  { service: 'routing', api: routing.RoutingService },
  { service: 'nurture', api: nurture.NurtureService },
  { service: 'crm-sync', api: crmsync.CrmSyncService },
];

/** Call options that carry the signed-in person's token: the service decides what they may do. */
export function asUser(accessToken: string, timeoutMs = 10_000) {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${accessToken}`);
  return { metadata, timeoutMs };
}

/** gRPC clients to the five services (TLS as the platform configures it), one channel each. */
@Injectable()
export class MeshClients implements OnModuleDestroy {
  readonly apis = new Map<string, ServiceClient<GenServiceMethods>>();
  readonly parked = new Map<ServiceName, ServiceClient<typeof parkedevents.ParkedEventsService.method>>();
  readonly intake: ServiceClient<typeof intake.IntakeService.method>;
  readonly scoring: ServiceClient<typeof scoring.ScoringService.method>;
  readonly crmSync: ServiceClient<typeof crmsync.CrmSyncService.method>;

  constructor(@Inject(CONSOLE_OPTIONS) options: ConsoleOptions) {
    const credentials = channelCredentials();
    for (const { service, api } of FORWARDED_APIS) this.apis.set(api.typeName, createClient(api, options.grpcAddresses[service], { credentials }));
    for (const service of SERVICES) this.parked.set(service, createClient(parkedevents.ParkedEventsService, options.grpcAddresses[service], { credentials }));
    this.intake = this.apis.get(intake.IntakeService.typeName) as never;
    this.scoring = this.apis.get(scoring.ScoringService.typeName) as never;
    this.crmSync = this.apis.get(crmsync.CrmSyncService.typeName) as never;
  }

  onModuleDestroy(): void {
    for (const client of [...this.apis.values(), ...this.parked.values()]) client.close();
  }
}
