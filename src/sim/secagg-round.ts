/**
 * One SecAgg/SecAgg+ round simulated in one process: a server machine and N client machines
 * exchanging the real encoded messages, with clients vanishing after chosen stages. It measures
 * what a deployment would: CPU time on each side, bytes each client sends and receives, and
 * whether the result equals the plain weighted mean of the clients whose vectors arrived.
 *
 * Server CPU is measured twice. In the simulation it is the CPU spent inside the server's steps,
 * which also pays for collecting garbage the 500 simulated clients left in the same heap. So the
 * round is then replayed: every client message the server received, in the same order, goes to a
 * fresh server machine with the same randomness, after the clients are gone. It does exactly the
 * same work (the replay checks that it reaches the same sum) and its CPU is the server's alone,
 * as in a server process. The in-simulation figure stays in the report.
 *
 * The replay runs twice. The full collection that removes the clients' garbage also makes V8
 * throw away the server's optimized code ("weak objects" deoptimizations; measured at N = 500,
 * L = 100k: about 400 ms more CPU in the replay that follows, most of it recompiling on V8's
 * background threads). A running server pays that in its first round, not in every round. So
 * the first replay, right after the collection, is `serverCpuMsFirstRound`; the second, on warm
 * code and with only the first replay's garbage about, is a running server's round:
 * `serverCpuMs`.
 */
import { startMaskThreads } from '../crypto/mask.js';
import { bytesToHex } from '../crypto/bytes.js';
import { seededRandom, systemRandom, type RandomSource } from '../crypto/random.js';
import { SecAggClient } from '../secagg/client.js';
import {
  decodeClientMessage,
  decodeServerMessage,
  encodeClientMessage,
  encodeServerMessage,
} from '../secagg/codec.js';
import type { SecAggOptions } from '../secagg/params.js';
import {
  cappedExampleCount,
  quantizationStep,
  stochasticQuantizer,
  type Quantizer,
} from '../secagg/quantize.js';
import {
  SecAggServer,
  type AggregateResult,
  type ClientEvent,
  type ServerStep,
} from '../secagg/server.js';
import { STAGES, type Stage } from '../secagg/stages.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export type DropoutStage = Stage | 'mixed';

export interface RoundSimulationConfig {
  readonly clients: number;
  readonly dim: number;
  readonly options: SecAggOptions;
  /** Fraction of clients that vanish: round(dropout x clients) of them. */
  readonly dropout: number;
  /** The stage after which they vanish; 'mixed' draws one per dropped client. */
  readonly dropoutStage: DropoutStage;
  /** Makes inputs, dropouts, the graph and all client randomness reproducible. */
  readonly seed?: number;
}

export interface RoundSimulationReport {
  readonly clients: number;
  readonly dim: number;
  readonly shareNum: number;
  readonly threshold: number;
  readonly targetRange: number;
  readonly modRange: number;
  readonly dropped: number;
  readonly survivors: number;
  readonly aborted: boolean;
  readonly reason?: string;
  /** The modular sum equals the sum of the survivors' weighted quantized vectors exactly. */
  readonly exact: boolean;
  /** Exact, and the dequantized mean is within one quantization step of the float mean. */
  readonly correct: boolean;
  readonly maxAbsError: number;
  readonly quantizationStep: number;
  /** The server's CPU in a round of a running server: the second replay (see above). */
  readonly serverCpuMs: number;
  readonly serverCpuMsByStage: Record<Stage, number>;
  /** The server's CPU in the first replay, right after a full collection (see above). */
  readonly serverCpuMsFirstRound: number;
  /** The server's CPU inside the simulation, with the clients' garbage collection mixed in. */
  readonly serverCpuMsInSimulation: number;
  readonly clientCpuMsMedian: number;
  readonly clientCpuMsP95: number;
  readonly bytesPerClientUp: number;
  readonly bytesPerClientDown: number;
  readonly peakRssMb: number;
  readonly events: readonly ClientEvent[];
}

const cpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** A client's update: uniform in [-c, c], regenerated from the seed whenever it is needed. */
function inputOf(id: number, dim: number, clippingRange: number, seed: string): Float32Array {
  const words = new Uint32Array(dim);
  seededRandom(seed, `input-${id}`).fill(new Uint8Array(words.buffer));
  const values = new Float32Array(dim);
  const scale = (2 * clippingRange) / 2 ** 32;
  for (let i = 0; i < dim; i++) values[i] = (words[i] as number) * scale - clippingRange;
  return values;
}

const numExamplesOf = (id: number, maxWeight: number): number =>
  1 + ((id * 7919) % Math.min(maxWeight, 1000));

/** Which clients vanish, and after which stage. */
function drawDropouts(
  config: RoundSimulationConfig,
  ids: readonly number[],
  random: RandomSource,
): Map<number, Stage> {
  const count = Math.round(config.dropout * config.clients);
  const pool = [...ids];
  const out = new Map<number, Stage>();
  const word = new Uint32Array(1);
  const next = (bound: number) => {
    random.fill(new Uint8Array(word.buffer));
    return (word[0] as number) % bound;
  };
  while (out.size < count) {
    const id = pool.splice(next(pool.length), 1)[0] as number;
    out.set(
      id,
      config.dropoutStage === 'mixed'
        ? (STAGES[next(STAGES.length)] as Stage)
        : config.dropoutStage,
    );
  }
  return out;
}

/**
 * How long the replay waits for the collector's background threads, growing with the garbage the
 * simulation left (clients x entries). Measured at N = 500, L = 100k: after 500 ms the replay's
 * first stages still paid for sweeping the clients' heap; after 2 s they no longer did.
 */
const settleMs = (clients: number, dim: number): number => Math.min(2000, (clients * dim) / 25_000);

/** One call into the server machine, as the transcript records it. */
type ServerCall =
  | { readonly kind: 'start' }
  | { readonly kind: 'receive'; readonly from: number; readonly bytes: Uint8Array }
  | { readonly kind: 'close' };

/** A server message on its way to a client, encoded. */
interface EncodedSend {
  readonly to: number;
  readonly stage: Stage;
  readonly bytes: Uint8Array;
}

/**
 * One call with the work a network server does around it: decoding the client's bytes and
 * encoding every message the step sends.
 */
function serverTurn(
  server: SecAggServer,
  call: ServerCall,
  modBits: number,
): { step: ServerStep; sends: EncodedSend[] } {
  const step = stepOf(server, call, modBits);
  const sends = step.send.map(({ to, message }) => ({
    to,
    stage: message.stage,
    bytes: encodeServerMessage(message),
  }));
  return { step, sends };
}

function stepOf(server: SecAggServer, call: ServerCall, modBits: number): ServerStep {
  if (call.kind === 'start') return server.start();
  if (call.kind === 'close') return server.closeStage();
  let message;
  try {
    message = decodeClientMessage(call.bytes, modBits);
  } catch (error) {
    return server.receiveMalformed(call.from, (error as Error).message);
  }
  return server.receive(call.from, message);
}

const zeroByStage = () => Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;

/**
 * CPU time of server calls interleaved with other work, in all and by the stage each call was
 * made in. Every call costs two readings (a system call each); the replay, which runs the server
 * alone, reads the clock only when the stage changes instead.
 */
function serverClock() {
  const byStage = zeroByStage();
  return {
    byStage,
    total: 0,
    time<T>(stage: Stage, work: () => T): T {
      const start = cpuMs();
      const result = work();
      const spent = cpuMs() - start;
      this.total += spent;
      byStage[stage] += spent;
      return result;
    },
  };
}

/**
 * Feeds the transcript to a fresh server and times it. The replay must reach the simulation's
 * result: the same sum, or an abort at the same point.
 */
function replayServer(
  server: SecAggServer,
  transcript: readonly ServerCall[],
  modBits: number,
  expected: AggregateResult | undefined,
): { total: number; byStage: Record<Stage, number> } {
  const byStage = zeroByStage();
  let result: AggregateResult | undefined;
  let current: Stage = 'setup';
  const start = cpuMs();
  let since = start;
  for (const call of transcript) {
    const stage = (call.kind === 'start' ? 'setup' : server.stage) as Stage;
    if (stage !== current) {
      const now = cpuMs();
      byStage[current] += now - since;
      [current, since] = [stage, now];
    }
    result = serverTurn(server, call, modBits).step.result ?? result;
  }
  const end = cpuMs();
  byStage[current] += end - since;
  const same =
    result === undefined || expected === undefined
      ? result === expected
      : result.sum.length === expected.sum.length &&
        result.sum.every((word, i) => word === expected.sum[i]);
  if (!same) throw new Error('the server replay did not reach the simulated result');
  return { total: end - start, byStage };
}

function freshSeed(): string {
  const bytes = new Uint8Array(32);
  systemRandom.fill(bytes);
  return bytesToHex(bytes);
}

/**
 * Harness only: a full collection, so that the replay does not pay for the simulation's garbage,
 * then a pause in which the collector's background threads finish sweeping and freeing it.
 */
function collectGarbage(settleMs: number): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, settleMs);
}

export function simulateSecAggRound(config: RoundSimulationConfig): RoundSimulationReport {
  const seed = String(config.seed ?? Math.floor(Math.random() * 2 ** 31));
  const ids = Array.from({ length: config.clients }, (_, i) => i + 1);
  const dropAfter = drawDropouts(config, ids, seededRandom(seed, 'dropouts'));
  // A server process starts its mask threads when it starts; the simulated one too, off the clock.
  startMaskThreads();
  // Seeded even without a seed (from a fresh random one) so that the replay draws the same graph.
  const serverSeed = config.seed === undefined ? freshSeed() : seed;
  const newServer = () =>
    new SecAggServer({
      clients: ids,
      dim: config.dim,
      options: config.options,
      random: seededRandom(serverSeed, 'server'),
    });
  const server = newServer();
  const params = server.params;

  // The expected exact sum, accumulated as each client quantizes: the simulator's view of what
  // the server must end up with, computed outside the protocol.
  const expected = new Uint32Array(config.dim + 1);
  const quantized = new Set<number>();
  // CPU the harness spends inside a client's call (making its input, recording the expected
  // sum) is the simulator's, not the client's: it is measured and taken off the client's time.
  let harnessCpu = 0;
  const asHarness = <T>(work: () => T): T => {
    const start = cpuMs();
    try {
      return work();
    } finally {
      harnessCpu += cpuMs() - start;
    }
  };
  const clients = new Map(
    ids.map((id) => {
      const numExamples = numExamplesOf(id, params.maxWeight);
      const weight = cappedExampleCount(numExamples, params);
      const recording: Quantizer = {
        quantize(values, roundParams, random, q) {
          stochasticQuantizer.quantize(values, roundParams, random, q);
          asHarness(() => {
            expected[0] = (expected[0] as number) + weight;
            for (let i = 0; i < q.length; i++)
              expected[i + 1] = (expected[i + 1] as number) + weight * (q[i] as number);
            quantized.add(id);
          });
        },
        dequantize: stochasticQuantizer.dequantize,
      };
      const client = new SecAggClient({
        input: () => ({
          values: asHarness(() => inputOf(id, config.dim, params.clippingRange, seed)),
          numExamples,
        }),
        quantizer: recording,
        random: config.seed === undefined ? systemRandom : seededRandom(seed, `client-${id}`),
      });
      return [id, client] as const;
    }),
  );

  const clientCpu = new Map<number, number>(ids.map((id) => [id, 0]));
  const up = new Map<number, number>(ids.map((id) => [id, 0]));
  const down = new Map<number, number>(ids.map((id) => [id, 0]));
  const events: ClientEvent[] = [];
  const simulated = serverClock();
  const transcript: ServerCall[] = [];
  let finished: ServerStep | undefined;
  const runServer = (stage: Stage, call: ServerCall): readonly EncodedSend[] => {
    transcript.push(call);
    const { step, sends } = simulated.time(stage, () => serverTurn(server, call, params.modBits));
    events.push(...step.events);
    if (step.result !== undefined || step.aborted !== undefined) finished = step;
    return sends;
  };

  let outbox = runServer('setup', { kind: 'start' });
  while (finished === undefined) {
    const stage = server.stage as Stage;
    const replies: { from: number; bytes: Uint8Array }[] = [];
    for (const { to, stage: sent, bytes: encoded } of outbox) {
      const vanished = dropAfter.get(to);
      if (vanished !== undefined && STAGES.indexOf(vanished) < STAGES.indexOf(sent)) continue;
      const harnessBefore = harnessCpu;
      const start = cpuMs();
      const reply = (clients.get(to) as SecAggClient).handle(decodeServerMessage(encoded));
      const bytes = encodeClientMessage(reply, params.modBits);
      const spent = cpuMs() - start - (harnessCpu - harnessBefore);
      clientCpu.set(to, (clientCpu.get(to) as number) + spent);
      down.set(to, (down.get(to) as number) + encoded.length);
      up.set(to, (up.get(to) as number) + bytes.length);
      replies.push({ from: to, bytes });
    }
    const next: EncodedSend[] = [];
    for (const { from, bytes } of replies) {
      next.push(...runServer(stage, { kind: 'receive', from, bytes }));
      if (finished !== undefined) break;
    }
    // Whoever vanished never answers: the stage deadline passes.
    if (finished === undefined && server.stage === stage)
      next.push(...runServer(stage, { kind: 'close' }));
    outbox = next;
  }
  clients.clear();
  collectGarbage(settleMs(config.clients, config.dim));
  const firstRound = replayServer(newServer(), transcript, params.modBits, finished.result);
  const replayed = replayServer(newServer(), transcript, params.modBits, finished.result);

  const completed = ids.filter((id) => !dropAfter.has(id));
  const result = finished.result;
  let exact = false;
  let maxAbsError = Number.POSITIVE_INFINITY;
  if (result !== undefined) {
    const modMask = params.modBits === 32 ? 0xffffffff : 2 ** params.modBits - 1;
    exact =
      result.survivors.length === quantized.size &&
      result.survivors.every((id) => quantized.has(id)) &&
      result.sum.every((value, i) => value === ((expected[i] as number) & modMask) >>> 0);
    const mean = new Float64Array(config.dim);
    let totalWeight = 0;
    for (const id of result.survivors) {
      const weight = cappedExampleCount(numExamplesOf(id, params.maxWeight), params);
      totalWeight += weight;
      const values = inputOf(id, config.dim, params.clippingRange, seed);
      for (let i = 0; i < values.length; i++)
        mean[i] = (mean[i] as number) + weight * (values[i] as number);
    }
    maxAbsError = 0;
    for (let i = 0; i < config.dim; i++) {
      maxAbsError = Math.max(
        maxAbsError,
        Math.abs((result.values[i] as number) - (mean[i] as number) / totalWeight),
      );
    }
  }
  const step = quantizationStep(params);
  const aborted = finished.aborted;
  return {
    clients: config.clients,
    dim: config.dim,
    shareNum: params.shareNum,
    threshold: params.threshold,
    targetRange: params.targetRange,
    modRange: 2 ** params.modBits,
    dropped: dropAfter.size,
    survivors: result?.survivors.length ?? 0,
    aborted: aborted !== undefined,
    ...(aborted !== undefined ? { reason: aborted.message } : {}),
    exact,
    // float32 output adds a relative rounding error of 2^-24 on values up to clippingRange
    correct: exact && maxAbsError <= step + params.clippingRange * 2 ** -22,
    maxAbsError,
    quantizationStep: step,
    serverCpuMs: replayed.total,
    serverCpuMsByStage: replayed.byStage,
    serverCpuMsFirstRound: firstRound.total,
    serverCpuMsInSimulation: simulated.total,
    clientCpuMsMedian: quantile(
      completed.map((id) => clientCpu.get(id) as number),
      0.5,
    ),
    clientCpuMsP95: quantile(
      completed.map((id) => clientCpu.get(id) as number),
      0.95,
    ),
    bytesPerClientUp: quantile(
      completed.map((id) => up.get(id) as number),
      0.5,
    ),
    bytesPerClientDown: quantile(
      completed.map((id) => down.get(id) as number),
      0.5,
    ),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    events,
  };
}
