import type { LifecycleStage, Track, TrackEntry } from './tracks.js';

/** What nurture knows about a lead when it picks a track: profile, score and routing state. */
export interface NurtureLead {
  email: string;
  firstName?: string;
  company?: string;
  product?: string;
  formId?: string;
  utmSource?: string;
  /** Scoring's grade, e.g. 'A1' (fit letter A-D, engagement digit 1-4). */
  grade?: string;
  stage?: LifecycleStage;
  routedToSales: boolean;
}

export interface TrackRecommendation {
  track: Track;
  reason: string;
}

export interface EnrollmentEvents {
  unsubscribed: boolean;
  bounced: boolean;
  replied: boolean;
  becameMql: boolean;
  routedToSales: boolean;
}

const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

// A lead that has not been scored yet is still a LEAD: it cannot be an MQL without a score.
const stageOf = (lead: NurtureLead): LifecycleStage => lead.stage ?? 'LEAD';

/** Phrases saying why the lead meets each criterion, or undefined when one criterion fails. */
function matchEntry(entry: TrackEntry, lead: NurtureLead): string[] | undefined {
  const why: string[] = [];
  if (entry.grades) {
    const grade = lead.grade?.trim().toUpperCase();
    // 'A' accepts any A grade; 'A1' only A1.
    const hit = grade ? entry.grades.find((g) => (g.length === 1 ? grade.startsWith(g) : grade === g)) : undefined;
    if (!hit) return undefined;
    why.push(`grade ${grade} is within ${entry.grades.join('/')}`);
  }
  if (entry.stages) {
    if (!entry.stages.includes(stageOf(lead))) return undefined;
    why.push(`stage ${stageOf(lead)}`);
  }
  if (entry.products) {
    const product = lead.product;
    if (!product || !entry.products.some((p) => same(p, product))) return undefined;
    why.push(`product interest '${product.trim()}'`);
  }
  const sources = entry.sources;
  if (sources) {
    const source = [lead.utmSource, lead.formId].find((s) => s && sources.some((wanted) => same(wanted, s)));
    if (!source) return undefined;
    why.push(`source '${source.trim()}'`);
  }
  if (entry.routedToSales !== undefined && entry.routedToSales !== lead.routedToSales) return undefined;
  return why;
}

const specificity = (t: Track) => ['grades', 'stages', 'products', 'sources'].filter((k) => t.entry[k as keyof TrackEntry] !== undefined).length;

// Higher priority wins; on a tie the narrower audience wins (it was written for this lead);
// the id breaks any remaining tie so the choice never depends on file order.
function byPreference(a: Track, b: Track): number {
  return b.priority - a.priority || specificity(b) - specificity(a) || a.id.localeCompare(b.id);
}

/**
 * Picks the nurture track a lead belongs in and says why. Transactional tracks are never
 * recommended: they are started by the event they answer (a Contact Sales submission), not by a
 * profile. A lead routed to sales is only offered SALES_ASSIST tracks; any other lead only
 * MARKETING tracks. Undefined means no track matches and the lead is left alone.
 */
export function recommendTrack(lead: NurtureLead, tracks: Track[]): TrackRecommendation | undefined {
  const kind = lead.routedToSales ? 'SALES_ASSIST' : 'MARKETING';
  const matches = tracks
    .filter((t) => t.kind === kind)
    .map((track) => ({ track, why: matchEntry(track.entry, lead) }))
    .filter((m): m is { track: Track; why: string[] } => m.why !== undefined)
    .sort((a, b) => byPreference(a.track, b.track));
  const best = matches[0];
  if (!best) return undefined;
  const { track, why } = best;
  const situation = lead.routedToSales
    ? 'The lead is routed to sales, so it leaves marketing nurture and enters a sales-assist track'
    : 'The lead is not routed to sales, so it gets marketing nurture';
  const fit = why.length > 0 ? `matches ${why.join(', ')}` : 'accepts every such lead';
  const among = matches.length === 1 ? 'the only matching track' : `the preferred of ${matches.length} matching tracks (priority ${track.priority})`;
  return { track, reason: `${situation}: '${track.name}' (${track.id} v${track.version}) ${fit}; ${among}.` };
}

/**
 * Why an enrollment ends now, or undefined while it goes on. `events` are what happened since
 * enrollment; the lead's current state counts too, so the answer is the same however often it is
 * asked. A MARKETING track always ends when the lead is routed to sales, whatever its data says.
 */
export function exitReasons(enrollmentTrack: Track, lead: NurtureLead, events: EnrollmentEvents): string | undefined {
  const { exit, kind } = enrollmentTrack;
  const reasons: string[] = [];
  if (events.unsubscribed && exit.onUnsubscribe) reasons.push('the person unsubscribed');
  if (events.bounced && exit.onBounce) reasons.push('the address bounced');
  if (events.replied && exit.onReply) reasons.push('the person replied');
  if ((events.becameMql || lead.stage === 'MQL') && exit.onMql) reasons.push('the lead became an MQL');
  if ((events.routedToSales || lead.routedToSales) && (exit.onRoutedToSales || kind === 'MARKETING')) reasons.push('the lead was routed to sales');
  if (reasons.length === 0) return undefined;
  const last = reasons.pop()!;
  const because = reasons.length > 0 ? `${reasons.join(', ')} and ${last}` : last;
  return `Leaves '${enrollmentTrack.name}' (${enrollmentTrack.id} v${enrollmentTrack.version}) because ${because}.`;
}
