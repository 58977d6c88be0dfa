// The two-party protocol on real sockets, in one process (net-fixture.ts): sessions, refused
// messages with the state kept, plan mismatches, identity binding under mutual TLS, attested TLS
// with software evidence (accepted, and refused by either side), and a vanished peer.
import { Code, ConnectError } from '@connectrpc/connect';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parsePolicy } from '../../src/confidential/attestation/index.js';
import { createManifest } from '../../src/confidential/manifest/create.js';
import { serializeManifest } from '../../src/confidential/manifest/document.js';
import { signManifest } from '../../src/confidential/manifest/signature.js';
import { verifyManifest } from '../../src/confidential/manifest/index.js';
import { generateSigningKey, signingPublicKey } from '../../src/confidential/signing.js';
import { startAttestedSide } from '../../src/deploy/attested.js';
import { certPaths, createDevelopmentPki } from '../../src/deploy/certs.js';
import { PeerError } from '../../src/vertical/errors.js';
import { ActiveClient } from '../../src/vertical/net/client.js';
import type { Channel } from '../../src/vertical/net/channel.js';
import { PeerGoneError } from '../../src/vertical/net/errors.js';
import { PassiveRun } from '../../src/vertical/net/passive-run.js';
import { PROTOCOL_VERSION } from '../../src/vertical/net/plan.js';
import { PsiEndpoint } from '../../src/vertical/net/psi-endpoint.js';
import { decodeSplitMessage, encodeSplitMessage } from '../../src/vertical/split/codec.js';
import {
  activeSession,
  evaluation,
  openAndAlign,
  passiveAlign,
  passiveIds,
  PLAN,
  rawClient,
  serve,
} from './net-fixture.js';

const refusedWith = async (call: Promise<unknown>, code: Code, pattern: RegExp) => {
  await assert.rejects(call, (error: unknown) => {
    const e = ConnectError.from(error);
    assert.equal(e.code, code, e.message);
    assert.match(e.rawMessage, pattern);
    return true;
  });
};

function passiveRun(url: string, channel: Channel, timeoutMs = 20_000) {
  return new PassiveRun({
    client: new ActiveClient(url, channel, { maxMessageBytes: 1 << 20, peer: 'active' }),
    ids: passiveIds,
    plan: PLAN,
    align: passiveAlign,
    evaluation: evaluation.passive,
    timeoutMs,
    psiTimeoutMs: 20_000,
  });
}

describe('vertical parties over the network', () => {
  it('trains to the end and both parties agree on steps and accuracy', async () => {
    const session = activeSession();
    const serving = await serve(session, { kind: 'insecure' });
    try {
      const run = passiveRun(serving.url, { kind: 'insecure' });
      const outcome = await run.run();
      const active = await session.done;
      assert.equal(outcome.aligned, 25);
      assert.equal(outcome.steps, 8); // ceil(25 / 8) x 2 epochs
      assert.equal(active.steps, 8);
      assert.equal(session.party?.committedSteps, 8);
      assert.equal(outcome.accuracy, active.accuracy);
      assert.ok(outcome.accuracy !== undefined && outcome.accuracy >= 0 && outcome.accuracy <= 1);
    } finally {
      await serving.close();
    }
  });

  it('refuses a NaN embedding, a wrong batch size, an unknown step and garbage, keeping its state', async () => {
    const session = activeSession();
    const serving = await serve(session, { kind: 'insecure' });
    try {
      const client = rawClient(serving);
      const { session: id, party } = await openAndAlign(client);
      const step0 = party.embed(0);
      const ok = await client.step({ session: id, message: encodeSplitMessage(step0) });
      await party.receive(decodeSplitMessage(ok.message, 'passive', 'active') as never);
      const before = session.party?.top.getWeights().map((w) => w.dataSync().slice());
      const good = party.embed(1);
      const nan = structuredClone(good);
      nan.embedding.data[4] = NaN;
      const short = {
        ...good,
        embedding: { ...good.embedding, rows: 7, data: good.embedding.data.slice(0, 21) },
      };
      const cases: [Uint8Array, RegExp][] = [
        [encodeSplitMessage(nan), /peer passive.*embedding for step 1 has NaN at row 1/],
        [encodeSplitMessage(short), /peer passive.*embedding for step 1 is 7 x 3, expected 8 x 3/],
        [
          encodeSplitMessage({ ...good, step: 5 }),
          /peer passive.*embedding for step 5, expected step 1/,
        ],
        [new Uint8Array([0xff, 0xff, 0xff]), /peer passive.*malformed split-learning message/],
        [
          encodeSplitMessage({ kind: 'gradient', step: 1, gradient: good.embedding }),
          /only the active party sends/,
        ],
      ];
      for (const [message, pattern] of cases) {
        await refusedWith(client.step({ session: id, message }), Code.InvalidArgument, pattern);
      }
      // Nothing changed: the active party's top model is as it was, and step 1 still goes through.
      const after = session.party?.top.getWeights().map((w) => w.dataSync().slice());
      assert.deepEqual(after, before);
      const reply = await client.step({ session: id, message: encodeSplitMessage(good) });
      assert.equal(decodeSplitMessage(reply.message, 'passive', 'active').kind, 'gradient');
      await refusedWith(
        client.psi({ session: id, messages: [] }),
        Code.FailedPrecondition,
        /training, not psi/,
      );
      await refusedWith(
        client.step({ session: new Uint8Array(16), message: encodeSplitMessage(good) }),
        Code.NotFound,
        /unknown session/,
      );
      session.abort(new Error('test over'));
      await assert.rejects(session.done, /test over/);
    } finally {
      await serving.close();
    }
  });

  it('refuses a plan unlike its own, naming the field, and a second session', async () => {
    const session = activeSession();
    const serving = await serve(session, { kind: 'insecure' });
    try {
      const client = rawClient(serving);
      await refusedWith(
        client.open({ protocol: PROTOCOL_VERSION, plan: { ...PLAN, batchSize: 16 } }),
        Code.FailedPrecondition,
        /plan: batchSize is 16 at the peer, 8 here/,
      );
      // A peer still on version 1, whose PSI values could never match ours.
      await refusedWith(
        client.open({ protocol: 1, plan: PLAN }),
        Code.InvalidArgument,
        /protocol 1, this party speaks 2/,
      );
      await client.open({ protocol: PROTOCOL_VERSION, plan: PLAN });
      await refusedWith(
        client.open({ protocol: PROTOCOL_VERSION, plan: PLAN }),
        Code.AlreadyExists,
        /already has a session/,
      );
      session.abort(new Error('test over'));
    } finally {
      await serving.close();
    }
  });

  it('repeats its PSI reply to a repeated request (a lost reply), and nothing else', async () => {
    const session = activeSession();
    const serving = await serve(session, { kind: 'insecure' });
    try {
      const client = rawClient(serving);
      const { session: id } = await client.open({ protocol: PROTOCOL_VERSION, plan: PLAN });
      const blinded = await new PsiEndpoint(passiveIds, 'passive', 'active').start();
      const first = await client.psi({ session: id, messages: blinded });
      const again = await client.psi({ session: id, messages: blinded });
      assert.deepEqual(again.messages, first.messages);
      session.abort(new Error('test over'));
    } finally {
      await serving.close();
    }
  });

  it('binds the session to the key that opened it (mutual TLS, allow-list)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sepal-vfl-net-'));
    await createDevelopmentPki(dir, ['passive', 'intruder']);
    await createDevelopmentPki(dir, ['stranger'], false);
    const paths = certPaths(dir);
    const node = (name: string): Channel => ({
      kind: 'mtls',
      ca: readFileSync(paths.ca),
      cert: readFileSync(paths.node(name).cert),
      key: readFileSync(paths.node(name).key),
    });
    const session = activeSession();
    const refused: Error[] = [];
    const serving = await serve(
      session,
      {
        kind: 'mtls',
        ca: readFileSync(paths.ca),
        cert: readFileSync(paths.serverCert),
        key: readFileSync(paths.serverKey),
        allowList: paths.allowList,
      },
      refused,
    );
    try {
      const client = (name: string) =>
        new ActiveClient(serving.url, node(name), { maxMessageBytes: 1 << 20, peer: 'active' });
      await assert.rejects(
        client('stranger').call(
          'open',
          { protocol: PROTOCOL_VERSION, plan: PLAN },
          'session id',
          5000,
        ),
        /refused the call for session id: key .* is not on the allow-list/,
      );
      const { session: id } = await client('passive').call(
        'open',
        { protocol: PROTOCOL_VERSION, plan: PLAN },
        'session id',
        5000,
      );
      await assert.rejects(
        client('intruder').call('psi', { session: id, messages: [] }, 'PSI reply', 5000),
        /the session belongs to passive, not intruder/,
      );
      assert.equal(refused.length, 1);
      session.abort(new Error('test over'));
    } finally {
      await serving.close();
    }
  });

  it('attested TLS: trains with endorsed software evidence the policy allows; either side refuses it otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sepal-vfl-attested-'));
    await createDevelopmentPki(join(dir, 'pki'), ['passive']);
    const paths = certPaths(join(dir, 'pki'));
    writeFileSync(join(dir, 'code.txt'), 'the code both parties run');
    const signer = generateSigningKey();
    const unsigned = await createManifest({ root: dir, code: ['code.txt'], data: [] });
    writeFileSync(join(dir, 'manifest.json'), serializeManifest(signManifest(unsigned, signer)));
    const manifest = await verifyManifest(
      join(dir, 'manifest.json'),
      signingPublicKey(signer),
      dir,
    );
    const ca = readFileSync(paths.ca, 'utf8');
    const side = (files: { cert: string; key: string }, policy: object) =>
      startAttestedSide({
        attest: 'software',
        policy: parsePolicy(policy),
        identity: { cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') },
        ca,
        manifest,
      });
    const active = async (policy: object): Promise<Channel> => ({
      kind: 'attested',
      side: await side({ cert: paths.serverCert, key: paths.serverKey }, policy),
      allowList: paths.allowList,
    });
    const passive = async (policy: object): Promise<Channel> => ({
      kind: 'attested',
      side: await side(paths.node('passive'), policy),
    });
    const [allow, strict] = [{ allowInsecure: true }, {}];

    // Both allow software evidence: the run completes, and the passive party is its endorsing key.
    const peers: string[] = [];
    let session = activeSession({
      onEvent: (event) => (event.type === 'opened' ? peers.push(event.peer) : undefined),
    });
    let serving = await serve(session, await active(allow));
    try {
      const outcome = await passiveRun(serving.url, await passive(allow)).run();
      assert.equal(outcome.steps, 8);
      assert.equal((await session.done).steps, 8);
      assert.deepEqual(peers, ['passive (attested)']);
    } finally {
      await serving.close();
    }

    // The passive party's policy forbids software evidence: it refuses before sending anything.
    session = activeSession();
    serving = await serve(session, await active(allow));
    try {
      const run = passiveRun(serving.url, await passive(strict));
      await assert.rejects(run.run(), (error: Error) => {
        assert.ok(error instanceof PeerError);
        assert.match(error.message, /its attestation was refused: .*allowInsecure/);
        return true;
      });
      assert.equal(run.party, undefined); // no PSI, no training
    } finally {
      session.abort(new Error('test over'));
      await serving.close();
    }

    // The active party's policy forbids it: it closes the connection; no session is opened.
    const refused: Error[] = [];
    session = activeSession({ onEvent: (event) => assert.notEqual(event.type, 'opened') });
    serving = await serve(session, await active(strict), refused);
    try {
      const run = passiveRun(serving.url, await passive(allow));
      await assert.rejects(
        run.run(),
        /closed the connection .*may have refused this party's evidence/,
      );
      assert.match(refused[0]?.message ?? '', /allowInsecure/);
    } finally {
      session.abort(new Error('test over'));
      await serving.close();
    }
  });

  it('a passive party that vanishes: the active party names it, rolls back, keeps its last good state', async () => {
    const session = activeSession({ reconnectMs: 300 });
    const serving = await serve(session, { kind: 'insecure' });
    const client = rawClient(serving);
    const { session: id, party } = await openAndAlign(client);
    for (const step of [0, 1, 2]) {
      const reply = await client.step({
        session: id,
        message: encodeSplitMessage(party.embed(step)),
      });
      if (step < 2)
        await party.receive(decodeSplitMessage(reply.message, 'passive', 'active') as never);
    }
    // Step 2's gradient was sent but never acknowledged: the active party holds it provisionally.
    assert.equal(session.party?.pendingStep, 2);
    await serving.close(); // cuts the passive party's connection
    await assert.rejects(session.done, (error: Error) => {
      assert.ok(error instanceof PeerGoneError);
      assert.match(
        error.message,
        /active: peer passive \(no TLS\): its connection closed during training \(step 2\) and it did not reconnect within 300 ms/,
      );
      return true;
    });
    assert.equal(session.party?.pendingStep, undefined);
    assert.equal(session.party?.committedSteps, 2);
  });

  it('an active party that vanishes: the passive party names it and keeps its last good state', async () => {
    const session = activeSession();
    const serving = await serve(session, { kind: 'insecure' });
    const run = passiveRun(serving.url, { kind: 'insecure' }, 1500);
    let closed = false;
    const original = session.step.bind(session);
    // The active party shuts down when step 4's embedding arrives (step 3 is then provisional):
    // that call completes (a graceful close), step 5 finds nobody.
    session.step = async (...args) => {
      if (session.party?.committedSteps === 3 && !closed) {
        closed = true;
        void serving.close();
      }
      return original(...args);
    };
    await assert.rejects(run.run(), (error: Error) => {
      assert.ok(error instanceof PeerGoneError, error.message);
      assert.match(
        error.message,
        /passive: peer active: unreachable or gone while awaiting gradient for step 5/,
      );
      return true;
    });
    assert.equal(run.steps, 5);
    assert.ok(run.party !== undefined);
    session.abort(new Error('test over'));
  });
});
