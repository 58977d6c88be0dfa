/**
 * An in-process ClientProxy: the server calls a `Client` in the same process through a
 * ClientHost. Parameters are copied in both directions, as a real transport would, so neither
 * side can alter the other's tensors. Optionally it makes the client vanish during secure
 * aggregation, for simulations and tests of dropouts.
 */
import { decodeServerMessage } from '../secagg/codec.js';
import { STAGES, type Stage } from '../secagg/stages.js';
import { raceAbort } from './calls.js';
import type { Client, ClientProxy } from './client.js';
import { ClientHost, type ClientHostOptions } from './client-host.js';
import { cloneParameters } from './parameters.js';

export interface LocalProxyOptions extends ClientHostOptions {
  /**
   * Dropout injection: the SecAgg stage after which the client vanishes in `round` (undefined:
   * it stays). It answers that stage, then every later message of the round fails, as a closed
   * connection would.
   */
  readonly vanishAfter?: (round: number) => Stage | undefined;
}

export function localProxy(
  id: string,
  client: Client,
  options: LocalProxyOptions = {},
): ClientProxy {
  const { vanishAfter, ...hostOptions } = options;
  const host = new ClientHost(client, hostOptions);
  return {
    id,
    getParameters: (config, signal) =>
      raceAbort(host.getParameters(config).then(cloneParameters), signal),
    fit: (ins, signal) =>
      raceAbort(
        host
          .fit({ ...ins, parameters: cloneParameters(ins.parameters) })
          .then((res) => ({ ...res, parameters: cloneParameters(res.parameters) })),
        signal,
      ),
    evaluate: (ins, signal) =>
      raceAbort(host.evaluate({ ...ins, parameters: cloneParameters(ins.parameters) }), signal),
    secAgg: async (round, message) => {
      const after = vanishAfter?.(round);
      if (after !== undefined) {
        const stage = decodeServerMessage(message).stage;
        if (STAGES.indexOf(stage) > STAGES.indexOf(after)) {
          throw new Error(`client ${id} vanished after ${after} in round ${round}`);
        }
      }
      return host.secAgg(round, message.slice());
    },
  };
}
