// useBackend from several callers at once: tfjs names the new backend current before it has
// initialised, so a caller that did not wait for the first one's initialisation used the wasm
// backend too early and crashed the process. In a child process, so the backend starts cold.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

describe('useBackend', () => {
  it('concurrent callers share one initialisation and all get a ready backend', () => {
    const script = `
      import { tf, useBackend } from './src/models/tf.ts';
      const squares = await Promise.all(
        [1, 2, 3].map((x) =>
          useBackend('wasm').then(() => tf.tensor([x]).square().dataSync()[0]),
        ),
      );
      console.log(JSON.stringify({ backend: tf.getBackend(), squares }));
    `;
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), { backend: 'wasm', squares: [1, 4, 9] });
  });
});
