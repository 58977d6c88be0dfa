/**
 * End to end: a report for a realistic run, opened from disk in headless Chromium. Every chart
 * must be drawn with sensible geometry, nothing may log an error or try the network, and the
 * page is screenshotted (light and dark) to .scratch/ for a human to look at.
 *
 * Needs Chromium: /usr/bin/chromium (Debian's package, which CI installs), or SEPAL_CHROMIUM.
 * Without it the test fails and says so; it does not skip.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { writeReport } from '../../src/report/write.js';
import { syntheticHistory } from './fixtures.js';

const CHROMIUM = process.env.SEPAL_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = resolve('.scratch');
/** Everything that could reach the network or phone home is off: the test asserts none of it. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const ROUNDS = 20;
const ABORTED = 9;
const DROPPED = {
  4: ['client-17', 'client-32'],
  11: ['client-05'],
  15: ['client-41', 'client-08', 'client-23'],
};

interface ChartGeometry {
  name: string;
  empty: boolean;
  box: { width: number; height: number };
  /** Plotted lines: their length in user units and whether they stay inside the svg. */
  lines: { length: number; inside: boolean }[];
  markers: number;
  /** Bars: whether each has area and stays inside the svg. */
  bars: { width: number; height: number; inside: boolean }[];
  /** Text elements that stick out of the svg (clipped labels). */
  textOutside: string[];
  /** Pairs of x-axis tick labels that overlap. */
  overlappingTicks: number;
}

/** Measures every chart in the page with the browser's own layout. */
function measureCharts(page: Page): Promise<ChartGeometry[]> {
  return page.evaluate(() => {
    const within = (inner: DOMRect, outer: DOMRect) =>
      inner.left >= outer.left - 0.5 &&
      inner.right <= outer.right + 0.5 &&
      inner.top >= outer.top - 0.5 &&
      inner.bottom <= outer.bottom + 0.5;
    return Array.from(document.querySelectorAll<SVGSVGElement>('svg[data-chart]')).map((svg) => {
      const box = svg.getBoundingClientRect();
      const ticks = Array.from(svg.querySelectorAll('.axis-x text:not(.axis-label)')).map((t) =>
        t.getBoundingClientRect(),
      );
      let overlappingTicks = 0;
      for (let i = 1; i < ticks.length; i++) {
        if ((ticks[i] as DOMRect).left < (ticks[i - 1] as DOMRect).right) overlappingTicks++;
      }
      return {
        name: svg.dataset.chart ?? '',
        empty: svg.dataset.empty === 'true',
        box: { width: box.width, height: box.height },
        lines: Array.from(svg.querySelectorAll<SVGPathElement>('.plot path.line')).map((p) => ({
          length: p.getTotalLength(),
          inside: within(p.getBoundingClientRect(), box),
        })),
        markers: svg.querySelectorAll('.plot .marker').length,
        bars: Array.from(svg.querySelectorAll<SVGRectElement>('.plot rect.bar')).map((r) => {
          const b = r.getBoundingClientRect();
          return { width: b.width, height: b.height, inside: within(b, box) };
        }),
        textOutside: Array.from(svg.querySelectorAll('text'))
          .filter((t) => !within(t.getBoundingClientRect(), box))
          .map((t) => t.textContent ?? ''),
        overlappingTicks,
      };
    });
  });
}

describe('the HTML report in headless Chromium', { timeout: 120_000 }, () => {
  let dir: string;
  let context: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  let reportUrl: string;

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `Chromium not found at ${CHROMIUM}. Install Debian's "chromium" package (as .ci/run does) or set SEPAL_CHROMIUM to a Chromium binary.`,
    );
    dir = await mkdtemp(join(tmpdir(), 'sepal-report-browser-'));
    const path = join(dir, 'report.html');
    reportUrl = pathToFileURL(path).href;
    await writeReport(path, {
      title: 'FedAvg on Fashion-MNIST: 50 clients per round, SecAgg+',
      history: syntheticHistory({ rounds: ROUNDS, aborted: [ABORTED], dropped: DROPPED }),
      config: {
        strategy: 'FedAvg',
        rounds: ROUNDS,
        clientsPerRound: 50,
        secAgg: { shareNum: 51, threshold: 26, clippingRange: 8 },
        note: '</script><img src=https://example.invalid/x onerror=alert(1)>',
      },
      startedAt: '2026-11-22T09:14:03Z',
      finishedAt: '2026-11-22T09:15:02Z',
      notes: ['Synthetic history, rendered by test/report/report-browser.test.ts.'],
    });
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      args: ARGS,
      viewport: { width: 1200, height: 900 },
      colorScheme: 'light',
    });
    // tsx compiles with esbuild's keepNames, which wraps named functions in __name(...); the
    // functions handed to page.evaluate run in the page, where that helper must exist too.
    await context.addInitScript('globalThis.__name = (f) => f;');
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    context.on('request', (request) => {
      if (request.url() !== reportUrl) requests.push(request.url());
    });
    await page.goto(reportUrl, { waitUntil: 'load' });
  });

  after(async () => {
    await context?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('draws every chart with lines and bars inside their boxes', async () => {
    const charts = await measureCharts(page);
    assert.deepEqual(
      charts.map((c) => c.name),
      ['accuracy', 'loss', 'secagg-time', 'bytes', 'dropouts', 'duration'],
    );
    for (const chart of charts) {
      const label = chart.name;
      assert.equal(chart.empty, false, `${label} has data`);
      assert.ok(
        chart.box.width > 300 && chart.box.height > 150,
        `${label} box ${JSON.stringify(chart.box)}`,
      );
      assert.ok(
        chart.lines.every((l) => l.length > 50 && l.inside),
        `${label} lines`,
      );
      assert.ok(
        chart.bars.every((b) => b.width >= 2 && b.height > 0 && b.inside),
        `${label} bars`,
      );
      assert.deepEqual(chart.textOutside, [], `${label}: no label sticks out of the chart`);
      assert.equal(chart.overlappingTicks, 0, `${label}: x tick labels do not overlap`);
    }
    const by = new Map(charts.map((c) => [c.name, c]));
    // Distributed: rounds 1-20; centralized: the initial evaluation and rounds 1-20.
    assert.equal(by.get('accuracy')?.lines.length, 2);
    assert.equal(by.get('accuracy')?.markers, ROUNDS + ROUNDS + 1);
    assert.equal(by.get('loss')?.lines.length, 2);
    assert.equal(by.get('bytes')?.lines.length, 2);
    // Five stages a round, except the aborted round's missing unmask.
    assert.equal(by.get('secagg-time')?.bars.length, ROUNDS * 5 - 1);
    assert.equal(by.get('dropouts')?.bars.length, Object.keys(DROPPED).length);
    assert.equal(by.get('duration')?.bars.length, ROUNDS);
  });

  it('shows the summary, one table row per round and the escaped config', async () => {
    assert.equal(await page.locator('[data-table="summary"] .tile').count(), 8);
    assert.equal(
      await page.locator('[data-table="rounds"] tbody tr:not(.note)').count(),
      ROUNDS + 1,
    );
    const config = await page.locator('pre.config').textContent();
    assert.match(
      config ?? '',
      /"note": "<\/script><img src=https:\/\/example.invalid\/x onerror=alert\(1\)>"/,
    );
    assert.equal(await page.locator('img, script').count(), 0);
  });

  it('follows a dark colour scheme', async () => {
    const colours = () =>
      page.evaluate(() => ({
        background: getComputedStyle(document.body).backgroundColor,
        tone: getComputedStyle(document.querySelector('.tone-0') as Element).color,
      }));
    const light = await colours();
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await colours();
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'report-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    assert.equal(light.background, 'rgb(255, 255, 255)');
    assert.equal(dark.background, 'rgb(13, 17, 23)');
    assert.notEqual(dark.tone, light.tone);
  });

  it('logs no error and requests nothing', async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'report.png'), fullPage: true });
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(requests, []);
  });
});
