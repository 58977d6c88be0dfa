// A minimal in-memory driver for protocol tests, with hooks to tamper with messages in flight.
import { seededRandom } from '../../src/crypto/random.js';
import { SecAggClient, type ClientInput } from '../../src/secagg/client.js';
import type { ClientMessage, ServerMessage } from '../../src/secagg/messages.js';
import type { SecAggOptions } from '../../src/secagg/params.js';
import { SecAggServer, type ClientEvent, type ServerStep } from '../../src/secagg/server.js';

export interface Hooks {
  /** Return undefined to make the client vanish (never answer this or later messages). */
  toClient?: (to: number, message: ServerMessage) => ServerMessage | undefined;
  /** Return undefined to drop the reply; return an array to deliver several messages. */
  toServer?: (from: number, message: ClientMessage) => ClientMessage | ClientMessage[] | undefined;
  input?: (id: number) => ClientInput;
}

export interface Run {
  server: SecAggServer;
  final: ServerStep;
  events: ClientEvent[];
  inputs: Map<number, ClientInput>;
}

export function defaultInput(id: number, dim: number): ClientInput {
  const values = new Float32Array(dim).map((_, i) => Math.sin(id * 31 + i) * 2);
  return { values, numExamples: 1 + (id % 5) };
}

export function runRound(
  clientCount: number,
  dim: number,
  options: SecAggOptions,
  hooks: Hooks = {},
  seed = 1,
): Run {
  const ids = Array.from({ length: clientCount }, (_, i) => i + 1);
  const server = new SecAggServer({
    clients: ids,
    dim,
    options,
    random: seededRandom(seed, 'server'),
  });
  const inputs = new Map(ids.map((id) => [id, hooks.input?.(id) ?? defaultInput(id, dim)]));
  const clients = new Map(
    ids.map((id) => [
      id,
      new SecAggClient({
        input: inputs.get(id) as ClientInput,
        random: seededRandom(seed, `c${id}`),
      }),
    ]),
  );
  const vanished = new Set<number>();
  const events: ClientEvent[] = [];
  let step = server.start();
  for (let guard = 0; guard < 20; guard++) {
    events.push(...step.events);
    if (step.result !== undefined || step.aborted !== undefined)
      return { server, final: step, events, inputs };
    const stage = server.stage;
    const replies: [number, ClientMessage][] = [];
    for (const { to, message } of step.send) {
      if (vanished.has(to)) continue;
      const delivered = hooks.toClient ? hooks.toClient(to, message) : message;
      if (delivered === undefined) {
        vanished.add(to);
        continue;
      }
      const reply = (clients.get(to) as SecAggClient).handle(delivered);
      const sent = hooks.toServer ? hooks.toServer(to, reply) : reply;
      if (sent === undefined) continue;
      for (const m of Array.isArray(sent) ? sent : [sent]) replies.push([to, m]);
    }
    let next: ServerStep = { send: [], events: [] };
    const send = [];
    for (const [from, message] of replies) {
      next = server.receive(from, message);
      events.push(...next.events);
      send.push(...next.send);
      if (next.result !== undefined || next.aborted !== undefined)
        return { server, final: next, events, inputs };
    }
    if (server.stage === stage) {
      next = server.closeStage();
      send.push(...next.send);
      events.push(...next.events);
      if (next.result !== undefined || next.aborted !== undefined)
        return { server, final: next, events, inputs };
      step = { send, events: [] };
    } else {
      step = { send, events: [] };
    }
  }
  throw new Error('round did not finish');
}

/** The plain weighted mean of the given clients' inputs (weights: example counts, capped). */
export function plainMean(run: Run, ids: readonly number[], maxWeight: number): Float64Array {
  const dim = (run.inputs.get(ids[0] as number) as ClientInput).values.length;
  const mean = new Float64Array(dim);
  let total = 0;
  for (const id of ids) {
    const { values, numExamples } = run.inputs.get(id) as ClientInput;
    const w = Math.min(numExamples, maxWeight);
    total += w;
    values.forEach((v, i) => (mean[i] = (mean[i] as number) + w * v));
  }
  return mean.map((v) => v / total);
}
