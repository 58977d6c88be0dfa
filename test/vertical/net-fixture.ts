// Two vertical parties on real sockets in this process: small synthetic data, the real session,
// service, server and client. For the protocol's edge cases; the processes test runs the CLI.
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { seededRandom } from '../../src/crypto/random.js';
import * as pb from '../../src/gen/sepal/vertical/v1/vertical_pb.js';
import { ActiveSession, type ActiveSessionOptions } from '../../src/vertical/net/active-session.js';
import type { Channel } from '../../src/vertical/net/channel.js';
import type { RunPlan } from '../../src/vertical/net/plan.js';
import { PsiEndpoint } from '../../src/vertical/net/psi-endpoint.js';
import { serveActive, type Serving } from '../../src/vertical/net/server.js';
import { ActiveParty } from '../../src/vertical/split/active.js';
import { alignRows } from '../../src/vertical/split/align.js';
import type { Matrix } from '../../src/vertical/split/messages.js';
import { createSplitModel } from '../../src/vertical/split/model.js';
import { PassiveParty } from '../../src/vertical/split/passive.js';
import { BatchSchedule } from '../../src/vertical/split/schedule.js';
import { tf } from '../../src/vertical/split/tf.js';
import { PROTOCOL_VERSION } from '../../src/vertical/net/plan.js';

export const PLAN: RunPlan = { batchSize: 8, epochs: 2, scheduleSeed: '7', embeddingWidth: 3 };
const ARCH = { passiveInputs: 4, activeInputs: 5, embedding: 3, hidden: 6, classes: 3 };

function matrix(rows: number, cols: number, label: string): Matrix {
  const bytes = new Uint8Array(rows * cols);
  seededRandom(7, label).fill(bytes);
  return { rows, cols, data: Float32Array.from(bytes, (b) => b / 255) };
}

/** Ids 0..29 at the passive party, 5..34 at the active party (25 common), in own orders. */
export const passiveIds = Array.from({ length: 30 }, (_, i) => `id-${(i * 7) % 30}`);
export const activeIds = Array.from({ length: 30 }, (_, i) => `id-${5 + ((i * 11) % 30)}`);
const passiveFeatures = matrix(30, ARCH.passiveInputs, 'passive');
const activeFeatures = matrix(30, ARCH.activeInputs, 'active');
const labels = Array.from({ length: 30 }, (_, i) => i % 3);
export const evaluation = {
  passive: matrix(12, ARCH.passiveInputs, 'test-passive'),
  active: matrix(12, ARCH.activeInputs, 'test-active'),
  labels: Array.from({ length: 12 }, (_, i) => (i * 2) % 3),
};

const schedule = (count: number) =>
  new BatchSchedule({ count, batchSize: PLAN.batchSize, epochs: PLAN.epochs, seed: 7 });

export function activeSession(overrides: Partial<ActiveSessionOptions> = {}): ActiveSession {
  const model = createSplitModel(ARCH, 7);
  return new ActiveSession({
    ids: activeIds,
    plan: PLAN,
    align: (result) => {
      const rows = alignRows('active', activeIds, activeFeatures, result.ids);
      const s = schedule(result.ids.length);
      const party = new ActiveParty({
        name: 'active',
        peer: 'passive',
        features: rows.features,
        labels: rows.rows.map((row) => labels[row] as number),
        classes: ARCH.classes,
        bottom: model.activeBottom,
        top: model.top,
        schedule: s,
        optimizer: tf.train.adam(0.01),
      });
      return { party, steps: s.steps };
    },
    evaluation: { features: evaluation.active, labels: evaluation.labels },
    peerTimeoutMs: 20_000,
    reconnectMs: 20_000,
    ...overrides,
  });
}

export function passiveAlign(result: { ids: string[] }) {
  const model = createSplitModel(ARCH, 7);
  const s = schedule(result.ids.length);
  const party = new PassiveParty({
    name: 'passive',
    peer: 'active',
    features: alignRows('passive', passiveIds, passiveFeatures, result.ids).features,
    bottom: model.passiveBottom,
    schedule: s,
    optimizer: tf.train.adam(0.01),
  });
  return { party, steps: s.steps };
}

export async function serve(session: ActiveSession, channel: Channel, refused: Error[] = []) {
  return serveActive({
    host: '127.0.0.1',
    port: 0,
    channel,
    session,
    maxMessageBytes: 1 << 20,
    onRefused: (error) => refused.push(error),
  });
}

/** A raw client without TLS, to send what a well-behaved passive party would not. */
export function rawClient(serving: Serving): Client<typeof pb.VerticalService> {
  return createClient(pb.VerticalService, createGrpcTransport({ baseUrl: serving.url }));
}

/** Opens a session and runs PSI over `client`; returns the session and the passive party. */
export async function openAndAlign(client: Client<typeof pb.VerticalService>) {
  const { session } = await client.open({ protocol: PROTOCOL_VERSION, plan: PLAN });
  const psi = new PsiEndpoint(passiveIds, 'passive', 'active');
  let outgoing = await psi.start();
  while (outgoing.length > 0) {
    const reply = await client.psi({ session, messages: outgoing });
    outgoing = [];
    for (const message of reply.messages) outgoing.push(...(await psi.receive(message)));
  }
  const result = await psi.result();
  if (result === undefined) throw new Error('PSI did not finish');
  return { session, ...passiveAlign(result), aligned: result.ids.length };
}
