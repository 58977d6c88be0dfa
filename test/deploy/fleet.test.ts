// Unit tests of the server's bookkeeping: sessions (tasks, long poll, stale results, death),
// the fleet (re-registration, liveness, revocation), the allow-list, rate limits, wire decoding.
import { create } from '@bufbuild/protobuf';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  NodeRefusedError,
  RateLimitError,
  SessionGoneError,
  StaleResultError,
  WireError,
} from '../../src/deploy/errors.js';
import { generateIdentity, keyId } from '../../src/deploy/identity.js';
import { AllowList, parseAllowList } from '../../src/deploy/server/allow-list.js';
import { Fleet } from '../../src/deploy/server/fleet.js';
import { RateLimiter } from '../../src/deploy/server/rate-limit.js';
import { Session } from '../../src/deploy/server/session.js';
import { decodeParameters, encodeParameters } from '../../src/deploy/wire.js';
import * as pb from '../../src/gen/sepal/fleet/v1/fleet_pb.js';

const secAggTask = (message: Uint8Array) =>
  ({ case: 'secAgg', value: create(pb.SecAggTaskSchema, { message }) }) as const;

const answer = (task: pb.Task, message: Uint8Array) =>
  create(pb.PushResultRequestSchema, {
    taskId: task.taskId,
    runId: task.runId,
    round: task.round,
    result: { case: 'secAgg', value: { message } },
  });

const echo = (result: { case: string; value: unknown }) =>
  (result.value as pb.SecAggResult).message;

test('a task reaches a parked poll and its answer resolves the call', async () => {
  const session = new Session('node-1', undefined, 'run-1');
  const poll = session.pull(5000, new AbortController().signal);
  const call = session.call(3, secAggTask(new Uint8Array([1])), echo, new AbortController().signal);
  const task = await poll;
  assert.ok(task !== undefined);
  assert.equal(task.round, 3);
  assert.equal(task.runId, 'run-1');
  session.complete(answer(task, new Uint8Array([9])));
  assert.deepEqual(await call, new Uint8Array([9]));
});

test('a poll with nothing to do ends empty after its wait', async () => {
  const session = new Session('node-1', undefined, 'run-1');
  assert.equal(await session.pull(10, new AbortController().signal), undefined);
});

test('results for other runs, rounds or unknown tasks are refused as stale', async () => {
  const session = new Session('node-1', undefined, 'run-1');
  const call = session.call(1, secAggTask(new Uint8Array()), echo, new AbortController().signal);
  const task = (await session.pull(10, new AbortController().signal)) as pb.Task;
  assert.throws(
    () => session.complete(answer({ ...task, round: 2 }, new Uint8Array())),
    StaleResultError,
  );
  assert.throws(
    () => session.complete(answer({ ...task, runId: 'run-0' }, new Uint8Array())),
    StaleResultError,
  );
  assert.throws(
    () => session.complete(answer({ ...task, taskId: 'x' }, new Uint8Array())),
    StaleResultError,
  );
  session.complete(answer(task, new Uint8Array([7])));
  await call;
  // Answered once: a second answer is stale too.
  assert.throws(() => session.complete(answer(task, new Uint8Array())), StaleResultError);
});

test('a cancelled call leaves the queue, and its late answer is stale', async () => {
  const session = new Session('node-1', undefined, 'run-1');
  const controller = new AbortController();
  const call = session.call(1, secAggTask(new Uint8Array()), echo, controller.signal);
  controller.abort(new Error('deadline'));
  await assert.rejects(call, /deadline/);
  assert.equal(await session.pull(10, new AbortController().signal), undefined);
});

test('an answer of the wrong kind rejects the call and is refused as malformed', async () => {
  const session = new Session('node-1', undefined, 'run-1');
  const call = session.call(
    1,
    secAggTask(new Uint8Array()),
    (result) => {
      if (result.case !== 'secAgg') throw new WireError('result', `got ${result.case}`);
      return result.value.message;
    },
    new AbortController().signal,
  );
  const task = (await session.pull(10, new AbortController().signal)) as pb.Task;
  const wrong = create(pb.PushResultRequestSchema, {
    taskId: task.taskId,
    runId: task.runId,
    round: task.round,
    result: { case: 'evaluate', value: { loss: 1 } },
  });
  assert.throws(() => session.complete(wrong), WireError);
  await assert.rejects(call, WireError);
});

test('a failure answer rejects the call with the node and its reason', async () => {
  const session = new Session('node-7', undefined, 'run-1');
  const call = session.call(1, secAggTask(new Uint8Array()), echo, new AbortController().signal);
  const task = (await session.pull(10, new AbortController().signal)) as pb.Task;
  session.complete(
    create(pb.PushResultRequestSchema, {
      taskId: task.taskId,
      runId: task.runId,
      round: task.round,
      result: { case: 'failure', value: { reason: 'out of memory' } },
    }),
  );
  await assert.rejects(call, /node node-7 failed task secAgg: out of memory/);
});

test('a killed session rejects pending calls and refuses every later request', async () => {
  const session = new Session('node-1', undefined, 'run-1');
  const call = session.call(1, secAggTask(new Uint8Array()), echo, new AbortController().signal);
  session.kill('no heartbeat');
  await assert.rejects(call, SessionGoneError);
  assert.throws(() => session.pull(10, new AbortController().signal), SessionGoneError);
  await assert.rejects(
    session.call(1, secAggTask(new Uint8Array()), echo, new AbortController().signal),
    /no heartbeat/,
  );
});

test('the fleet kills silent sessions, keeps polling ones, and replaces re-registered ones', async () => {
  let now = 0;
  const fleet = new Fleet({
    runId: 'run-1',
    heartbeatIntervalMs: 100,
    livenessTimeoutMs: 300,
    pollTimeoutMs: 10_000,
    clock: () => now,
  });
  try {
    const silent = fleet.register('a', undefined);
    const polling = fleet.register('b', undefined);
    const poll = polling.pull(10_000, new AbortController().signal);
    now = 1000;
    fleet.sweep();
    assert.equal(silent.dead, true);
    assert.equal(polling.dead, false);
    assert.deepEqual(
      fleet.available().map((p) => p.id),
      ['b'],
    );
    assert.throws(() => fleet.session(silent.id, undefined), SessionGoneError);
    const again = fleet.register('b', undefined);
    assert.equal(polling.dead, true);
    assert.equal(await poll, undefined);
    assert.equal(fleet.session(again.id, undefined), again);
    assert.throws(() => fleet.session(again.id, 'someone-else'), NodeRefusedError);
  } finally {
    fleet.close();
  }
});

test('revoking a key ends its session', () => {
  const fleet = new Fleet({
    runId: 'r',
    heartbeatIntervalMs: 100,
    livenessTimeoutMs: 300,
    pollTimeoutMs: 100,
  });
  try {
    const session = fleet.register('a', 'key-a');
    fleet.revokeWhere((key) => key === 'key-a');
    assert.equal(session.dead, true);
    assert.equal(fleet.available().length, 0);
  } finally {
    fleet.close();
  }
});

test('allow-list: names keys, rejects malformed lines by line number, reloads revocations', async () => {
  const a = keyId(generateIdentity().publicKey);
  const b = keyId(generateIdentity().publicKey);
  assert.deepEqual(
    [...parseAllowList(`# nodes\nnode-a ${a}\n\nnode-b ${b} # second\n`, 'f')],
    [
      [a, 'node-a'],
      [b, 'node-b'],
    ],
  );
  assert.throws(
    () => parseAllowList(`node-a ${a}\nnode-a ${b}\n`, 'f'),
    /f:2: node name node-a appears twice/,
  );
  assert.throws(() => parseAllowList('node-a not-a-key\n', 'f'), /f:1: key of node-a/);
  assert.throws(() => parseAllowList(`bad/name ${a}\n`, 'f'), /f:1: node name/);

  const file = join(mkdtempSync(join(tmpdir(), 'sepal-allow-')), 'allow.txt');
  writeFileSync(file, `node-a ${a}\nnode-b ${b}\n`);
  const revoked: string[] = [];
  const list = new AllowList(file, (keys) => revoked.push(...keys), 0);
  assert.equal(list.nodeOf(a), 'node-a');
  writeFileSync(file, `node-b ${b}\n`);
  await new Promise((resolve) => setTimeout(resolve, 20));
  writeFileSync(file, `node-b ${b}\n`); // a new mtime even on coarse clocks
  assert.equal(list.nodeOf(a), undefined);
  assert.equal(list.nodeOf(b), 'node-b');
  assert.deepEqual(revoked, [a]);
});

test('rate limiter: bursts, then refuses, then refills', () => {
  let now = 0;
  const limiter = new RateLimiter({ perSecond: 10, burst: 3 }, () => now);
  for (let i = 0; i < 3; i++) limiter.take('a');
  assert.throws(() => limiter.take('a'), RateLimitError);
  limiter.take('b');
  now = 100;
  limiter.take('a');
  assert.throws(() => limiter.take('a'), /node a exceeded 10 requests\/s/);
});

test('wire: parameters round-trip; wrong sizes and repeated names are refused by field', () => {
  const bias = { name: 'b', shape: [1], values: new Float32Array([0.25]) };
  const parameters = [
    { name: 'w', shape: [2, 2], values: new Float32Array([1, -2, 3.5, 4]) },
    bias,
  ];
  assert.deepEqual(decodeParameters(encodeParameters(parameters), 'p'), parameters);
  // Bytes as the HTTP stack hands them over: a Node Buffer inside a larger pooled buffer.
  const pooled = encodeParameters(parameters);
  for (const tensor of pooled.tensors) tensor.values = Buffer.from(tensor.values);
  assert.deepEqual(decodeParameters(pooled, 'p'), parameters);
  const short = encodeParameters(parameters);
  (short.tensors[0] as pb.Tensor).values = new Uint8Array(15);
  assert.throws(
    () => decodeParameters(short, 'fit.parameters'),
    /fit.parameters.tensors\[0\] \(w\): has 15 value bytes/,
  );
  const twice = encodeParameters([bias, bias]);
  assert.throws(() => decodeParameters(twice, 'p'), /repeats a tensor name/);
  assert.throws(() => decodeParameters(undefined, 'fit.parameters'), /fit.parameters: is missing/);
});
