import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barChart, type BarChartSpec } from '../../src/report/bar-chart.js';
import { lineChart, type LineChartSpec } from '../../src/report/line-chart.js';
import { lineCharts } from '../../src/report/small-multiples.js';

const base = {
  title: 'Accuracy',
  description: 'Accuracy per round.',
  xLabel: 'round',
  yLabel: 'accuracy',
};

const line = (overrides: Partial<LineChartSpec> = {}) =>
  lineChart({
    ...base,
    name: 'accuracy',
    series: [
      { label: 'Distributed', points: [1, 2, 3].map((x) => ({ x, y: x / 4 })) },
      { label: 'Centralized', points: [0, 1, 2, 3].map((x) => ({ x, y: x / 5 })) },
    ],
    ...overrides,
  });

/** The `d` attribute of every plotted line. */
const lines = (svg: string) =>
  [...svg.matchAll(/<path class="line" d="([^"]*)"/g)].map((m) => m[1]);
const count = (svg: string, pattern: RegExp) => [...svg.matchAll(pattern)].length;

describe('lineChart', () => {
  it('draws an accessible, findable svg with one line and one marker per point', () => {
    const svg = line();
    assert.match(svg, /^<svg [^>]*data-chart="accuracy"/);
    assert.match(svg, /role="img" aria-labelledby="chart-accuracy-title chart-accuracy-desc"/);
    assert.match(svg, /<title id="chart-accuracy-title">Accuracy<\/title>/);
    assert.match(svg, /<desc id="chart-accuracy-desc">Accuracy per round.<\/desc>/);
    const [first, second] = lines(svg);
    assert.equal(count(first ?? '', /[ML]/g), 3);
    assert.equal(count(second ?? '', /[ML]/g), 4);
    assert.equal(count(svg, /class="marker" d="[^"]*"><title>/g), 7);
    assert.match(svg, /<title>Distributed, round 2: 0.5000<\/title>/);
  });

  it('keeps every mark inside the plot area', () => {
    const svg = line({ width: 400, height: 250 });
    for (const d of lines(svg)) {
      for (const [, x, y] of (d ?? '').matchAll(/[ML]([-\d.]+) ([-\d.]+)/g)) {
        assert.ok(Number(x) > 0 && Number(x) < 400, `x ${x}`);
        assert.ok(Number(y) > 0 && Number(y) < 250, `y ${y}`);
      }
    }
  });

  it('shows a legend only for several series unless asked', () => {
    const one = {
      label: 'Only',
      points: [
        { x: 1, y: 1 },
        { x: 2, y: 2 },
      ],
    };
    assert.doesNotMatch(line({ series: [one] }), /class="legend"><g/);
    assert.match(line({ series: [one], legend: true }), /class="legend"><g/);
    assert.match(line(), />Centralized<\/text>/);
  });

  it('breaks the line at a missing or non-finite value', () => {
    const svg = line({
      series: [
        {
          label: 'Loss',
          points: [
            { x: 1, y: 2 },
            { x: 2, y: 1 },
            { x: 3, y: Number.NaN },
            { x: 4, y: undefined },
            { x: 5, y: 0.5 },
            { x: 6, y: 0.4 },
          ],
        },
      ],
    });
    assert.equal(count(lines(svg)[0] ?? '', /M/g), 2);
    assert.equal(count(svg, /class="marker" d="[^"]*"><title>/g), 4);
  });

  it('leaves values a log axis cannot place out', () => {
    const svg = line({
      yScale: 'log',
      series: [{ label: 'Bytes', points: [0, 10, 1000].map((y, x) => ({ x, y })) }],
    });
    assert.equal(count(lines(svg)[0] ?? '', /[ML]/g), 2);
  });

  it('says "not recorded" instead of drawing axes when there is nothing to draw', () => {
    for (const series of [[], [{ label: 'A', points: [{ x: 1, y: undefined }] }]]) {
      const svg = line({ series, emptyMessage: 'Not recorded: no evaluation' });
      assert.match(svg, /data-empty="true"/);
      assert.match(svg, />Not recorded: no evaluation<\/text>/);
      assert.doesNotMatch(svg, /class="line"|class="axis/);
    }
  });

  it('draws a single point as a marker', () => {
    const svg = line({ series: [{ label: 'A', points: [{ x: 1, y: 0.5 }] }] });
    assert.equal(count(svg, /class="marker" d="[^"]*"><title>/g), 1);
    assert.doesNotMatch(svg, /NaN|Infinity/);
  });

  it('escapes every label', () => {
    const evil = '<script>alert(1)</script>';
    const svg = line({
      title: evil,
      description: evil,
      xLabel: evil,
      yLabel: evil,
      series: [{ label: evil, points: [{ x: 1, y: 1 }] }],
      legend: true,
    });
    assert.doesNotMatch(svg, /<script/);
    assert.match(svg, /&lt;script&gt;/);
  });

  it('rejects a chart name that would not make a valid id', () => {
    assert.throws(() => line({ name: 'a" onload="x' }), /bad chart name/);
  });
});

const bars = (overrides: Partial<BarChartSpec> = {}) =>
  barChart({
    ...base,
    name: 'secagg-time',
    yUnit: 'ms',
    categories: [1, 2, 3],
    series: [
      { label: 'setup', values: [10, 20, 30] },
      { label: 'unmask', values: [30, undefined, 10] },
    ],
    ...overrides,
  });

/** [x, y, width, height] of every bar. */
const rects = (svg: string) =>
  [
    ...svg.matchAll(
      /<rect class="bar" x="([-\d.]+)" y="([-\d.]+)" width="([\d.]+)" height="([\d.]+)"/g,
    ),
  ].map((m) => m.slice(1).map(Number));

describe('barChart', () => {
  it('stacks series bottom-up, heights proportional to the values', () => {
    const svg = bars();
    const r = rects(svg);
    assert.equal(r.length, 5); // round 2 has no unmask
    const [s1, s2, s3, u1, u3] = r as number[][];
    // Round 1: setup 10 then unmask 30 on top of it, same x.
    assert.equal(u1?.[0], s1?.[0]);
    assert.ok(
      Math.abs((u1?.[1] ?? 0) + (u1?.[3] ?? 0) - (s1?.[1] ?? 0)) < 0.02,
      'unmask sits on setup',
    );
    assert.ok(Math.abs((u1?.[3] ?? 0) - 3 * (s1?.[3] ?? 0)) < 0.05, '30 is three times 10');
    // Rounds 1 and 3 both total 40.
    assert.ok(Math.abs((u1?.[1] ?? 0) - (s3?.[1] ?? 0) + (u3?.[3] ?? 0)) < 0.05);
    assert.ok(
      (s2?.[0] ?? 0) > (s1?.[0] ?? 0) && (s3?.[0] ?? 0) > (s2?.[0] ?? 0),
      'rounds left to right',
    );
    assert.match(svg, /<title>unmask, round 3: 10 ms<\/title>/);
    assert.match(svg, />setup<\/text>/);
  });

  it('draws nothing for zero, negative or missing values, and flags with their reason', () => {
    const svg = bars({
      series: [{ label: 'dropped', values: [0, -1, 2] }],
      flags: { label: 'aborted round', at: [{ x: 2, detail: 'fewer than <26> survivors' }] },
      notes: [undefined, undefined, 'client-1 & client-2'],
    });
    assert.equal(rects(svg).length, 1);
    assert.equal(count(svg, /class="flag"/g), 1);
    assert.match(svg, /aborted round, round 2: fewer than &lt;26&gt; survivors/);
    assert.match(svg, /dropped, round 3: 2 ms\nclient-1 &amp; client-2/);
  });

  it('says "not recorded" without categories or values', () => {
    assert.match(bars({ categories: [], series: [] }), /data-empty="true"/);
    assert.match(
      bars({ series: [{ label: 'a', values: [undefined, undefined, undefined] }] }),
      /data-empty/,
    );
  });

  it('keeps bars at a readable width for one round and for many', () => {
    const one = rects(bars({ categories: [1], series: [{ label: 'a', values: [5] }] }));
    const many = rects(
      bars({
        categories: Array.from({ length: 300 }, (_, i) => i + 1),
        series: [{ label: 'a', values: Array.from({ length: 300 }, () => 1) }],
      }),
    );
    assert.ok((one[0]?.[2] ?? 0) <= 36);
    assert.ok(many.every((r) => (r[2] ?? 0) >= 1));
  });
});

describe('lineCharts (small multiples)', () => {
  it('lays out one standalone image with a panel per series, starting at zero', () => {
    const svg = lineCharts('Bench <N>', [
      { title: 'server CPU (s) vs N', xs: [100, 200, 300], ys: [0.5, 1.2, 2.3] },
      { title: 'client CPU (ms) vs N', xs: [100, 200, 300], ys: [120, 160, 200] },
    ]);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="900"/);
    assert.match(svg, /Bench &lt;N&gt;/);
    assert.equal(count(svg, /data-chart="panel-\d"/g), 2);
    assert.equal(lines(svg).length, 2);
    assert.match(svg, /<text x="[\d.]+" y="[\d.]+" text-anchor="end">0<\/text>/);
  });
});
