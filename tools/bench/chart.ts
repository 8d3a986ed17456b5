/**
 * The PNG chart of a run: gateway overhead per turn (p50, p99) and event-loop delay p99 (gateway and
 * load generator) against concurrent calls. Vega renders the spec to SVG headlessly (no browser, no
 * canvas), and resvg (a Rust rasteriser shipped as an npm optional dependency) turns it into a PNG.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import type { LevelResult } from './measure.ts';

interface Point {
  calls: number;
  ms: number;
  series: string;
}

const SERIES = ['overhead p50', 'overhead p99', 'gateway event-loop p99', 'load-generator event-loop p99'] as const;

/** The plotted points; levels without a value for a series are left out of it. */
export function chartPoints(levels: readonly LevelResult[]): Point[] {
  const values: Record<(typeof SERIES)[number], (l: LevelResult) => number | null> = {
    'overhead p50': (l) => l.overheadMs.p50,
    'overhead p99': (l) => l.overheadMs.p99,
    'gateway event-loop p99': (l) => l.gateway.loopDelayP99Ms,
    'load-generator event-loop p99': (l) => l.loadGenerator.loopDelayP99Ms,
  };
  return levels.flatMap((l) =>
    SERIES.flatMap((series) => {
      const ms = values[series](l);
      return ms === null ? [] : [{ calls: l.calls, ms, series }];
    }),
  );
}

/** A Vega line chart of the points, one coloured line per series, dashed for the load generator. */
function spec(points: Point[], title: string): vega.Spec {
  return {
    width: 640,
    height: 360,
    padding: 12,
    title: {
      text: title,
      subtitle: 'ms per turn (overhead) and ms of delay (event loops); lower is better',
      fontSize: 15,
    },
    data: [{ name: 'points', values: points }],
    scales: [
      { name: 'x', type: 'linear', domain: { data: 'points', field: 'calls' }, range: 'width', zero: true, nice: true },
      { name: 'y', type: 'linear', domain: { data: 'points', field: 'ms' }, range: 'height', zero: true, nice: true },
      { name: 'color', type: 'ordinal', domain: [...SERIES], range: ['#1f77b4', '#d62728', '#2ca02c', '#7f7f7f'] },
      {
        name: 'dash',
        type: 'ordinal',
        domain: [...SERIES],
        range: [
          [1, 0],
          [1, 0],
          [1, 0],
          [6, 4],
        ],
      },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'concurrent calls', grid: true, format: 'd', tickMinStep: 1 },
      { orient: 'left', scale: 'y', title: 'ms', grid: true },
    ],
    legends: [
      {
        stroke: 'color',
        strokeDash: 'dash',
        orient: 'bottom',
        direction: 'horizontal',
        columns: 2,
        symbolType: 'stroke',
        labelLimit: 400,
      },
    ],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'series', data: 'points', groupby: 'series' } },
        marks: [
          {
            type: 'line',
            from: { data: 'series' },
            sort: { field: 'datum.calls' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'calls' },
                y: { scale: 'y', field: 'ms' },
                stroke: { scale: 'color', field: 'series' },
                strokeDash: { scale: 'dash', field: 'series' },
                strokeWidth: { value: 2 },
              },
            },
          },
          {
            type: 'symbol',
            from: { data: 'series' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'calls' },
                y: { scale: 'y', field: 'ms' },
                fill: { scale: 'color', field: 'series' },
                size: { value: 36 },
              },
            },
          },
        ],
      },
    ],
  };
}

/** Renders the chart to PNG bytes (white background, system fonts). */
export async function renderChart(levels: readonly LevelResult[], title: string): Promise<Buffer> {
  const view = new vega.View(vega.parse(spec(chartPoints(levels), title)), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return png.render().asPng();
}
