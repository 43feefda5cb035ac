import { Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import { consoleApi, crmsync, intake, nurture, routing, scoring } from '@leadmesh/contracts';

/** A lapsed session sends the person to sign in again, back to the page they were on. */
const signInAgain: Interceptor = (next) => async (request) => {
  try {
    return await next(request);
  } catch (err) {
    // Only the console's own "sign in first": a service refusing the token would loop otherwise.
    const e = ConnectError.from(err);
    if (e.code === Code.Unauthenticated && e.rawMessage === 'sign in first') {
      location.assign(`/auth/login?returnTo=${encodeURIComponent(location.pathname + location.search)}`);
    }
    throw err;
  }
};

// The console's backend forwards each call with the signed-in person's token; the browser never holds it.
const transport = createConnectTransport({ baseUrl: '/api', interceptors: [signInAgain] });

export const api = {
  console: createClient(consoleApi.ConsoleService, transport),
  intake: createClient(intake.IntakeService, transport),
  scoring: createClient(scoring.ScoringService, transport),
  routing: createClient(routing.RoutingService, transport),
  nurture: createClient(nurture.NurtureService, transport),
  crmSync: createClient(crmsync.CrmSyncService, transport),
};

/** A refusal or failure in words for the page. */
export function problem(err: unknown): string {
  const e = ConnectError.from(err);
  if (e.code === Code.PermissionDenied) return `Not allowed: ${e.rawMessage}`;
  if (e.code === Code.NotFound) return `Not found: ${e.rawMessage}`;
  if (e.code === Code.InvalidArgument) return `Please check the input: ${e.rawMessage}`;
  if (e.code === Code.Unavailable) return 'The service is not reachable right now; try again shortly.';
  return e.rawMessage;
}
