/**
 * One SecAgg/SecAgg+ round simulated in one process: a server machine and N client machines
 * exchanging the real encoded messages, with clients vanishing after chosen stages. It measures
 * what a deployment would: CPU time on each side, bytes each client sends and receives, and
 * whether the result equals the plain weighted mean of the clients whose vectors arrived.
 */
import { startMaskThreads } from '../crypto/mask.js';
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
  type ClientEvent,
  type Outgoing,
  type ServerStep,
} from '../secagg/server.js';
import { STAGES, type Stage } from '../secagg/stages.js';

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
  readonly serverCpuMs: number;
  readonly serverCpuMsByStage: Record<Stage, number>;
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

export function simulateSecAggRound(config: RoundSimulationConfig): RoundSimulationReport {
  const seed = String(config.seed ?? Math.floor(Math.random() * 2 ** 31));
  const ids = Array.from({ length: config.clients }, (_, i) => i + 1);
  const dropAfter = drawDropouts(config, ids, seededRandom(seed, 'dropouts'));
  // A server process starts its mask threads when it starts; the simulated one too, off the clock.
  startMaskThreads();
  const server = new SecAggServer({
    clients: ids,
    dim: config.dim,
    options: config.options,
    random: config.seed === undefined ? systemRandom : seededRandom(seed, 'server'),
  });
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
        quantize(values, roundParams, random) {
          const q = stochasticQuantizer.quantize(values, roundParams, random);
          asHarness(() => {
            expected[0] = (expected[0] as number) + weight;
            for (let i = 0; i < q.length; i++)
              expected[i + 1] = (expected[i + 1] as number) + weight * (q[i] as number);
            quantized.add(id);
          });
          return q;
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
  const serverCpuByStage = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  const events: ClientEvent[] = [];
  let serverCpu = 0;
  let finished: ServerStep | undefined;

  const runServer = (stage: Stage, call: () => ServerStep): ServerStep => {
    const start = cpuMs();
    const step = call();
    const spent = cpuMs() - start;
    serverCpu += spent;
    serverCpuByStage[stage] += spent;
    events.push(...step.events);
    if (step.result !== undefined || step.aborted !== undefined) finished = step;
    return step;
  };

  let outbox: readonly Outgoing[] = runServer('setup', () => server.start()).send;
  while (finished === undefined) {
    const stage = server.stage as Stage;
    const replies: { from: number; bytes: Uint8Array }[] = [];
    for (const { to, message } of outbox) {
      const vanished = dropAfter.get(to);
      if (vanished !== undefined && STAGES.indexOf(vanished) < STAGES.indexOf(message.stage))
        continue;
      const encodeStart = cpuMs();
      const encoded = encodeServerMessage(message);
      const encodeSpent = cpuMs() - encodeStart;
      serverCpu += encodeSpent;
      serverCpuByStage[stage] += encodeSpent;
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
    const next: Outgoing[] = [];
    for (const { from, bytes } of replies) {
      const step = runServer(stage, () => {
        let message;
        try {
          message = decodeClientMessage(bytes, params.modBits);
        } catch (error) {
          return server.receiveMalformed(from, (error as Error).message);
        }
        return server.receive(from, message);
      });
      next.push(...step.send);
      if (finished !== undefined) break;
    }
    // Whoever vanished never answers: the stage deadline passes.
    if (finished === undefined && server.stage === stage)
      next.push(...runServer(stage, () => server.closeStage()).send);
    outbox = next;
  }

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
    serverCpuMs: serverCpu,
    serverCpuMsByStage: serverCpuByStage,
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
