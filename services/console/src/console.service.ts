import { Inject, Injectable } from '@nestjs/common';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceError } from '@grpc/grpc-js';
import { consoleApi, lead } from '@leadmesh/contracts';
import { CONSOLE_OPTIONS } from './tokens.js';
import { SERVICES, type ConsoleOptions, type ServiceName } from './console.options.js';
import { gradeDistribution } from './domain/grades.js';
import { MeshClients, asUser } from './mesh.clients.js';
import { PrometheusClient } from './prometheus.client.js';
import type { Session } from './session.js';

type Init<T extends Parameters<typeof create>[0]> = MessageInitShape<T>;

/** The screens that need several services, composed with the person's own token on every call. */
@Injectable()
export class ConsoleService {
  constructor(
    @Inject(CONSOLE_OPTIONS) private readonly options: ConsoleOptions,
    @Inject(MeshClients) private readonly mesh: MeshClients,
    @Inject(PrometheusClient) private readonly prometheus: PrometheusClient,
  ) {}

  getSession(session: Session): Init<typeof consoleApi.GetSessionResponseSchema> {
    return {
      subject: session.sub,
      name: session.name,
      email: session.email,
      groups: session.groups,
      scopes: session.scopes,
      traceUrlPrefix: `${this.options.jaegerUrl}/trace/`,
      expiresAt: timestampFromMs(session.expiresAt * 1000),
    };
  }

  async getPipelineHealth(): Promise<Init<typeof consoleApi.GetPipelineHealthResponseSchema>> {
    const hour = '[1h]';
    try {
      const [handled, submitted, waiting, parked, retries, serving, finished] = await Promise.all([
        this.prometheus.byService(`sum by (service) (increase(leadmesh_events_handled_total{outcome="ack"}${hour}))`),
        this.prometheus.byService(`sum by (service) (increase(leadmesh_rpc_duration_seconds_count{service="intake",method="IntakeService/SubmitLead",code="OK"}${hour}))`),
        this.prometheus.byService('sum by (service) (leadmesh_consumer_pending_messages)'),
        this.prometheus.byService(`sum by (service) (increase(leadmesh_dead_letters_total${hour}))`),
        this.prometheus.byService(`sum by (service) (increase(leadmesh_events_handled_total{outcome="retry"}${hour}))`),
        this.prometheus.byService('min by (service) (leadmesh_serving)'),
        this.prometheus.byService('time() - max(leadmesh_newest_lead_finished_timestamp_seconds{service="crm-sync"}) by (service)'),
      ]);
      return {
        stages: SERVICES.map((service) => ({
          service,
          handledLastHour: service === 'intake' ? (submitted.get(service) ?? 0) : (handled.get(service) ?? 0),
          waiting: waiting.get(service) ?? 0,
          parkedLastHour: parked.get(service) ?? 0,
          retriesLastHour: retries.get(service) ?? 0,
          serving: serving.get(service) === 1,
        })),
        secondsSinceLastLeadFinished: finished.get('crm-sync'),
      };
    } catch (err) {
      return { stages: [], unavailableReason: `The metrics could not be read: ${(err as Error).message}` };
    }
  }

  async listDeadLetters(session: Session): Promise<Init<typeof consoleApi.ListDeadLettersResponseSchema>> {
    const call = () => asUser(session.accessToken);
    const services = await Promise.all(
      SERVICES.map(async (service) => {
        try {
          const answer = await this.mesh.parked.get(service)!.listParkedEvents({ pageSize: 100 }, call());
          return { service, parkedEvents: answer.parkedEvents };
        } catch (err) {
          return { service, error: describe(err) };
        }
      }),
    );
    try {
      const crm = await this.mesh.crmSync.listDeadLetters({ pageSize: 100 }, call());
      return { services, crmDeadLetters: crm.deadLetters };
    } catch (err) {
      return { services, crmError: describe(err) };
    }
  }

  replayParkedEvent(session: Session, service: string, sequence: bigint) {
    const client = this.mesh.parked.get(service as ServiceName);
    if (!client) throw Object.assign(new Error(`unknown service ${service}`), { code: 3, details: `service: unknown service ${service}` });
    return client.replayParkedEvents({ target: { case: 'sequence', value: sequence } }, asUser(session.accessToken));
  }

  /** Scores the newest leads (and one asked for) with the active rule set and the candidate, from the same inputs. */
  async previewRuleSet(session: Session, version: string, leadId: string, lastLeads: number): Promise<Init<typeof consoleApi.PreviewRuleSetResponseSchema>> {
    const call = () => asUser(session.accessToken, 20_000);
    const { activeVersion } = await this.mesh.scoring.listRuleSets({}, call());
    const recent = (await this.mesh.intake.searchLeads({ query: '', pageSize: Math.min(lastLeads || 50, 50) }, call())).leads;
    const preview = async (stored: { leadId: string; profile?: lead.LeadProfile }) => {
      const score = (ruleSetVersion: string) => this.mesh.scoring.scoreLead({ profile: stored.profile, ruleSetVersion }, call()).then((r) => r.score);
      const [current, candidate] = await Promise.all([score(activeVersion), score(version)]);
      const contact = stored.profile?.contact;
      const label = [contact?.firstName, contact?.lastName].filter(Boolean).join(' ') + (contact?.company ? ` (${contact.company})` : '');
      return { leadId: stored.leadId, label: label.trim() || stored.leadId, current, candidate };
    };
    const leads = await Promise.all(recent.map(preview));
    const one = leadId ? await preview((await this.mesh.intake.getLead({ leadId }, call())).lead!) : undefined;
    const { distribution, changed } = gradeDistribution(leads.map((l) => ({ before: l.current?.grade ?? '', after: l.candidate?.grade ?? '' })));
    return { activeVersion, candidateVersion: version, lead: one, leads, distribution, changed };
  }
}

function describe(err: unknown): string {
  const e = err as ServiceError;
  return e.details || e.message;
}
