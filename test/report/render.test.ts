import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { History } from '../../src/fl/history.js';
import { renderReport } from '../../src/report/render.js';
import { syntheticHistory } from './fixtures.js';

const EVIL = '</script><img src=x onerror=alert(1)>';

/** Every chart's data-chart name, and those drawn as "not recorded". */
const charts = (html: string) =>
  [...html.matchAll(/<svg [^>]*data-chart="([^"]+)"/g)].map((m) => m[1]);
const empty = (html: string) =>
  [...html.matchAll(/<svg [^>]*data-chart="([^"]+)"[^>]*data-empty="true"/g)].map((m) => m[1]);

describe('renderReport', () => {
  it('draws every chart, the summary, the round table and the config for a full run', () => {
    const html = renderReport({
      title: 'FedAvg',
      history: syntheticHistory({ aborted: [9] }),
      config: { rounds: 20 },
    });
    assert.match(html, /^<!doctype html>\n<html lang="en">/);
    assert.deepEqual(charts(html), [
      'accuracy',
      'loss',
      'secagg-time',
      'bytes',
      'dropouts',
      'duration',
    ]);
    assert.deepEqual(empty(html), []);
    assert.match(html, /<dl class="tiles" data-table="summary">/);
    assert.match(html, /<dt>Best accuracy<\/dt><dd>[\d.]+%<small>centralized, round \d+<\/small>/);
    assert.match(html, /<table data-table="rounds">/);
    assert.equal(
      [...html.matchAll(/<tr( class="has-note")?><td class="text">\d+<\/td>/g)].length,
      20,
    );
    assert.match(html, /<tr class="initial"><td class="text">0 \(initial\)<\/td>/);
    assert.match(html, /aborted: fewer than threshold \(26\) survivors after ask-vectors/);
    assert.match(html, /dropped client-41, client-08, client-23/);
    assert.match(html, /&quot;rounds&quot;: 20/);
  });

  it('escapes the config, title, notes and client ids, and can run no script or fetch anything', () => {
    const history = syntheticHistory({ rounds: 3, dropped: { 2: [EVIL] } });
    const html = renderReport({
      title: EVIL,
      history,
      config: { model: EVIL, [EVIL]: 1 },
      notes: [EVIL],
      startedAt: EVIL,
    });
    assert.doesNotMatch(html, /<script|<img|onerror=alert[^&]*>/i);
    assert.ok(html.includes('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;'));
    assert.match(
      html,
      /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;/,
    );
    // The only URL in the document is the SVG namespace.
    const urls = new Set(html.match(/https?:\/\/[^\s"'<>)]+/g));
    assert.deepEqual([...urls], ['http://www.w3.org/2000/svg']);
  });

  it('says "not recorded" for an empty history instead of drawing broken charts', () => {
    const html = renderReport({ title: 'Nothing yet', history: { rounds: [] } });
    assert.deepEqual(empty(html), charts(html));
    assert.match(html, /Not recorded: the run has no rounds/);
    assert.match(html, /<dt>Final accuracy<\/dt><dd>not recorded<\/dd>/);
    assert.match(html, /<code>not recorded<\/code>/);
    assert.doesNotMatch(html, /NaN|Infinity|undefined/);
  });

  it('leaves out what a plain run does not record: secure aggregation, centralized evaluation', () => {
    const html = renderReport({
      title: 'Plain FedAvg',
      history: syntheticHistory({ rounds: 5, secAgg: false, centralized: false }),
    });
    assert.deepEqual(empty(html), ['secagg-time', 'bytes']);
    assert.match(html, /Not recorded: no round used secure aggregation/);
    assert.doesNotMatch(html, /Centralized evaluation|Secure aggregation<\/th>/);
    assert.match(html, /<dt>Final accuracy<\/dt><dd>[\d.]+%<small>distributed, round 5<\/small>/);
    assert.doesNotMatch(html, /NaN|undefined/);
  });

  it('handles one round, a diverged loss, aborted rounds and an unrecorded accuracy', () => {
    const [round] = syntheticHistory({ rounds: 1, aborted: [1], centralized: false }).rounds;
    assert.ok(round !== undefined);
    const history: History = {
      rounds: [
        {
          ...round,
          distributed: { loss: Number.NaN, metrics: {} },
          aborted: 'too few clients available',
        },
      ],
    };
    const html = renderReport({ title: 'One round', history });
    assert.deepEqual(empty(html), ['accuracy', 'loss']);
    assert.match(html, /Not recorded: no evaluation reported an accuracy/);
    assert.match(html, /<td>NaN<\/td>/);
    assert.match(html, /aborted: too few clients available/);
    assert.match(html, /class="flag"/);
    assert.doesNotMatch(html, /undefined/);
  });

  it('shows a config that JSON cannot hold without failing', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    assert.match(
      renderReport({ title: 't', history: { rounds: [] }, config: cyclic }),
      /the configuration cannot be shown as JSON: Converting circular structure/,
    );
    assert.match(
      renderReport({ title: 't', history: { rounds: [] }, config: { seed: 2n ** 70n } }),
      /&quot;seed&quot;: &quot;1180591620717411303424&quot;/,
    );
  });

  it('is a pure function of its input', () => {
    const input = { title: 't', history: syntheticHistory(), config: { a: 1 } };
    assert.equal(renderReport(input), renderReport(input));
  });

  it('stays isomorphic: only write.ts imports Node modules', () => {
    const dir = new URL('../../src/report/', import.meta.url);
    const nodeImports = readdirSync(dir)
      .filter((file) => file.endsWith('.ts') && file !== 'write.ts')
      .filter((file) => /from '(node:|fs|path|os)/.test(readFileSync(new URL(file, dir), 'utf8')));
    assert.deepEqual(nodeImports, []);
  });
});
