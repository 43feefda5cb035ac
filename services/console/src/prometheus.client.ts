import { Inject, Injectable } from '@nestjs/common';
import { CONSOLE_OPTIONS } from './tokens.js';
import type { ConsoleOptions } from './console.options.js';

/** Instant queries against Prometheus's HTTP API: the pipeline page's numbers over the last hour. */
@Injectable()
export class PrometheusClient {
  constructor(@Inject(CONSOLE_OPTIONS) private readonly options: ConsoleOptions) {}

  /** The value of each series by its `service` label. */
  async byService(query: string): Promise<Map<string, number>> {
    const url = `${this.options.prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`;
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (!response.ok) throw new Error(`Prometheus answered ${response.status}`);
    const body = (await response.json()) as { data?: { result?: { metric: Record<string, string>; value: [number, string] }[] } };
    const values = new Map<string, number>();
    for (const series of body.data?.result ?? []) values.set(series.metric.service ?? '', Number(series.value[1]));
    return values;
  }
}
