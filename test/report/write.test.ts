import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderReport } from '../../src/report/render.js';
import { writeReport } from '../../src/report/write.js';
import { syntheticHistory } from './fixtures.js';

describe('writeReport', () => {
  it('writes the rendered report, creating directories, replacing an old one, leaving no temporary file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sepal-report-'));
    try {
      const path = join(dir, 'runs', 'report.html');
      await writeReport(path, { title: 'first', history: { rounds: [] } });
      const input = { title: 'second', history: syntheticHistory({ rounds: 2 }) };
      await writeReport(path, input);
      assert.equal(await readFile(path, 'utf8'), renderReport(input));
      assert.deepEqual(await readdir(join(dir, 'runs')), ['report.html']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails without leaving a temporary file when the target cannot be replaced', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sepal-report-'));
    try {
      // A directory where the file should go: the rename fails.
      await assert.rejects(writeReport(dir, { title: 't', history: { rounds: [] } }));
      const parent = await readdir(join(dir, '..'));
      assert.ok(!parent.some((name) => name.endsWith('.tmp') && name.includes('sepal-report-')));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
