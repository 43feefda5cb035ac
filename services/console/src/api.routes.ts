import { Inject, Injectable } from '@nestjs/common';
import { getOption, type DescMethod } from '@bufbuild/protobuf';
import { Code, ConnectError, createContextKey, type ConnectRouter, type HandlerContext } from '@connectrpc/connect';
import type { ServiceError } from '@grpc/grpc-js';
import { auth, consoleApi } from '@leadmesh/contracts';
import { ConsoleService } from './console.service.js';
import { FORWARDED_APIS, MeshClients, asUser } from './mesh.clients.js';
import type { Session } from './session.js';

/** The signed-in person of a request, set by the session middleware before Connect sees it. */
export const SESSION = createContextKey<Session | undefined>(undefined);

/** Methods the console never forwards: submitting leads and activity is for forms and teams' systems. */
const NOT_FOR_PEOPLE = new Set(['leads:submit']);

function signedIn(context: HandlerContext): Session {
  const session = context.values.get(SESSION);
  if (!session) throw new ConnectError('sign in first', Code.Unauthenticated);
  return session;
}

/** A service's refusal passes to the browser as it is: same code (gRPC and Connect share them), same message. */
function asConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  const e = err as Partial<ServiceError>;
  if (typeof e.code === 'number' && e.code > 0 && e.code <= 16) return new ConnectError(e.details || e.message || 'failed', e.code as unknown as Code);
  return new ConnectError('the console failed to answer', Code.Internal);
}

const guarded =
  <A extends unknown[], R>(fn: (session: Session, ...args: A) => Promise<R>) =>
  async (context: HandlerContext, ...args: A): Promise<R> => {
    const session = signedIn(context);
    try {
      return await fn(session, ...args);
    } catch (err) {
      throw asConnectError(err);
    }
  };

/**
 * What the browser may call: the five services' APIs, forwarded method by method with the person's
 * access token (so each service checks their scopes exactly as it checks any caller's), and the
 * console's own compositions.
 */
@Injectable()
export class ApiRoutes {
  constructor(
    @Inject(MeshClients) private readonly mesh: MeshClients,
    @Inject(ConsoleService) private readonly console: ConsoleService,
  ) {}

  register = (router: ConnectRouter): void => {
    for (const { api } of FORWARDED_APIS) {
      const client = this.mesh.apis.get(api.typeName)!;
      const impl: Record<string, (request: unknown, context: HandlerContext) => Promise<unknown>> = {};
      for (const method of api.methods as DescMethod[]) {
        if (method.methodKind !== 'unary' || NOT_FOR_PEOPLE.has(getOption(method, auth.required_scope))) continue;
        impl[method.localName] = (request, context) =>
          guarded((session) => (client[method.localName] as (r: unknown, o: unknown) => Promise<unknown>)(request, asUser(session.accessToken)))(context);
      }
      router.service(api, impl as never);
    }
    router.service(consoleApi.ConsoleService, {
      getSession: (_request, context) => this.console.getSession(signedIn(context)),
      getPipelineHealth: (_request, context) => guarded(() => this.console.getPipelineHealth())(context),
      listDeadLetters: (_request, context) => guarded((session) => this.console.listDeadLetters(session))(context),
      replayParkedEvent: (request, context) =>
        guarded(async (session) => ({ result: await this.console.replayParkedEvent(session, request.service, request.sequence) }))(context),
      previewRuleSet: (request, context) =>
        guarded((session) => this.console.previewRuleSet(session, request.ruleSetVersion, request.leadId, request.lastLeads))(context),
    });
  };
}
