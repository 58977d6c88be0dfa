/**
 * Checkpoints: what a run needs to resume after its last completed round, and their one binary
 * format (usable by any store: a file, a database blob).
 *
 * Format, version 1:
 *   "sepal-checkpoint 1\n"        ASCII line naming the format and its version
 *   u32 little-endian             byte length of the JSON header
 *   JSON header (UTF-8)           { round, strategy, history, parameters, strategyState }, the two
 *                                 tensor lists as [{ name, shape }]
 *   zero bytes to a multiple of 4
 *   float32 little-endian         the values of `parameters`, then of `strategyState`, in order
 * Non-finite numbers in the history (a diverged loss) are written as { "$number": "NaN" }.
 */
import { CheckpointError } from './errors.js';
import type { History } from './history.js';
import { sizeOf, type Parameters, type Tensor } from './parameters.js';

export interface Checkpoint {
  /** The last completed round; 0 when only the initial parameters are settled. */
  readonly round: number;
  readonly parameters: Parameters;
  readonly history: History;
  /** The name of the strategy that wrote it: a run resumes only under the same strategy. */
  readonly strategy: string;
  /** The strategy's server-optimizer state (Strategy.saveState), empty when it has none. */
  readonly strategyState: Parameters;
}

export interface CheckpointStore {
  /** Stores `checkpoint` durably, replacing the previous one as a whole or not at all. */
  save(checkpoint: Checkpoint): Promise<void>;
  /** The most recently saved checkpoint, or undefined when there is none. */
  loadLatest(): Promise<Checkpoint | undefined>;
}

const FORMAT = 'sepal-checkpoint';
const VERSION = 1;

interface TensorHeader {
  readonly name: string;
  readonly shape: readonly number[];
}

interface Header {
  readonly round: number;
  readonly strategy: string;
  readonly history: History;
  readonly parameters: readonly TensorHeader[];
  readonly strategyState: readonly TensorHeader[];
}

const replacer = (_key: string, value: unknown) =>
  typeof value === 'number' && !Number.isFinite(value) ? { $number: String(value) } : value;

const reviver = (_key: string, value: unknown) =>
  typeof value === 'object' &&
  value !== null &&
  Object.keys(value).length === 1 &&
  typeof (value as { $number?: unknown }).$number === 'string'
    ? Number((value as { $number: string }).$number)
    : value;

const align4 = (n: number) => (n + 3) & ~3;

export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const tensors = [...checkpoint.parameters, ...checkpoint.strategyState];
  const layout = (list: Parameters) => list.map(({ name, shape }) => ({ name, shape }));
  const header: Header = {
    round: checkpoint.round,
    strategy: checkpoint.strategy,
    history: checkpoint.history,
    parameters: layout(checkpoint.parameters),
    strategyState: layout(checkpoint.strategyState),
  };
  const magic = new TextEncoder().encode(`${FORMAT} ${VERSION}\n`);
  const json = new TextEncoder().encode(JSON.stringify(header, replacer));
  const dataStart = align4(magic.length + 4 + json.length);
  const count = tensors.reduce((sum, t) => sum + t.values.length, 0);
  const bytes = new Uint8Array(dataStart + 4 * count);
  const view = new DataView(bytes.buffer);
  bytes.set(magic, 0);
  view.setUint32(magic.length, json.length, true);
  bytes.set(json, magic.length + 4);
  let offset = dataStart;
  for (const { values } of tensors) {
    for (const value of values) {
      view.setFloat32(offset, value, true);
      offset += 4;
    }
  }
  return bytes;
}

/** Reads a checkpoint; `source` names where it came from in errors. */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  const fail = (message: string): never => {
    throw new CheckpointError(source, message);
  };
  const newline = bytes.subarray(0, 64).indexOf(0x0a);
  const line = newline < 0 ? '' : new TextDecoder().decode(bytes.subarray(0, newline));
  if (!line.startsWith(`${FORMAT} `)) fail(`not a ${FORMAT} file`);
  const version = line.slice(FORMAT.length + 1);
  if (version !== String(VERSION)) {
    fail(`format version ${version} is not supported (this build reads version ${VERSION})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonStart = newline + 1 + 4;
  if (bytes.length < jsonStart) fail('truncated header');
  const jsonLength = view.getUint32(newline + 1, true);
  if (bytes.length < jsonStart + jsonLength) fail('truncated header');
  let header: Header;
  try {
    header = JSON.parse(
      new TextDecoder().decode(bytes.subarray(jsonStart, jsonStart + jsonLength)),
      reviver,
    ) as Header;
  } catch (error) {
    return fail(`unreadable header: ${(error as Error).message}`);
  }
  if (!Number.isInteger(header.round) || header.round < 0) fail('header.round is not a round');
  if (typeof header.strategy !== 'string') fail('header.strategy is not a name');
  if (!Array.isArray(header.parameters) || !Array.isArray(header.strategyState)) {
    fail('header lacks the tensor lists');
  }
  let offset = align4(jsonStart + jsonLength);
  const expected =
    offset +
    4 * [...header.parameters, ...header.strategyState].reduce((n, t) => n + sizeOf(t.shape), 0);
  if (bytes.length !== expected) fail(`expected ${expected} bytes, found ${bytes.length}`);
  // Reads the next tensors' values, in file order.
  const read = (list: readonly TensorHeader[]): Tensor[] =>
    list.map(({ name, shape }) => {
      const values = new Float32Array(sizeOf(shape));
      for (let i = 0; i < values.length; i++, offset += 4)
        values[i] = view.getFloat32(offset, true);
      return { name, shape, values };
    });
  const parameters = read(header.parameters);
  const strategyState = read(header.strategyState);
  const { round, strategy, history } = header;
  return { round, strategy, history, parameters, strategyState };
}
