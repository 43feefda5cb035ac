// The picture: latency over time and the latency distribution of the fixed-rate phases, as a
// Vega-Lite spec rendered headless to SVG (vega's View.toSVG) and then to PNG (resvg).
import { createRequire } from 'node:module';
import type { PipelineMode } from './pipeline.ts';

export function chartSpec(modes: PipelineMode[]): Record<string, unknown> {
  const overTime: Array<Record<string, unknown>> = [];
  const curve: Array<Record<string, unknown>> = [];
  for (const mode of modes) {
    for (const phase of mode.fixedRates) {
      if (!phase.overTime) continue;
      const series = `${phase.rate}/s, tracing ${mode.tracing ? 'on' : 'off'}`;
      for (const b of phase.overTime) {
        overTime.push({ series, second: b.second, stat: 'p50', ms: b.p50 });
        overTime.push({ series, second: b.second, stat: 'p99', ms: b.p99 });
      }
      for (const point of phase.curve ?? []) curve.push({ series, percentile: point.percentile, ms: point.ms, tail: 1 / (1 - Math.min(point.percentile, 99.99) / 100) });
    }
  }
  const color = { field: 'series', type: 'nominal', title: 'phase' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'leadmesh: SubmitLead to crm.synced, fixed-rate phases',
    background: 'white',
    config: { font: 'sans-serif' },
    hconcat: [
      {
        title: 'latency over time (per second: p50 solid, p99 dashed)',
        width: 520,
        height: 320,
        data: { values: overTime },
        mark: { type: 'line', point: false },
        encoding: {
          x: { field: 'second', type: 'quantitative', title: 'second of the phase' },
          y: { field: 'ms', type: 'quantitative', title: 'ms', scale: { type: 'log' } },
          color,
          strokeDash: { field: 'stat', type: 'nominal', title: 'statistic' },
          detail: { field: 'stat' },
        },
      },
      {
        title: 'latency distribution (percentile)',
        width: 520,
        height: 320,
        data: { values: curve },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'tail', type: 'quantitative', title: 'percentile (1/(1-p): 2 = p50, 10 = p90, 100 = p99)', scale: { type: 'log' } },
          y: { field: 'ms', type: 'quantitative', title: 'ms' },
          color,
          tooltip: [{ field: 'percentile' }, { field: 'ms' }],
        },
      },
    ],
  };
}

/** PNG bytes, or why there are none (the rendering packages are not installed). */
export async function renderPng(spec: Record<string, unknown>): Promise<{ png?: Buffer; why?: string }> {
  const require = createRequire(import.meta.url);
  let vega: any, vegaLite: any, resvg: any;
  try {
    vega = await import('vega');
    vegaLite = await import('vega-lite');
    resvg = require('@resvg/resvg-js');
  } catch (err) {
    return { why: `vega, vega-lite and @resvg/resvg-js are needed for the PNG (${(err as Error).message.split('\n')[0]})` };
  }
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg: string = await view.toSVG();
  view.finalize();
  const png = new resvg.Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 1.5 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
  return { png: Buffer.from(png) };
}
