/**
 * Synchronous calls into a worker thread: the caller posts a request and blocks in Atomics.wait
 * until the worker has answered. For code that must stay synchronous (a SecAgg state machine's
 * step, a simulator's measured loop) but wants its work in another V8 heap or on another core.
 *
 * One Int32 flag per worker tells the caller when an answer is ready; the answer itself travels
 * on a MessagePort that the caller reads with receiveMessageOnPort, so no event-loop turn is
 * needed on either side. A worker that throws answers with its error message, and the call throws;
 * a worker that never answers makes the call throw after `timeoutMs`.
 */
import {
  MessageChannel,
  parentPort,
  receiveMessageOnPort,
  workerData,
  type MessagePort,
  type TransferListItem,
  type Worker,
  type WorkerOptions,
} from 'node:worker_threads';
import { startModuleWorker } from './worker.js';

const BUSY = 0;
const ANSWERED = 1;
const FAILED = 2;

/** What a worker started by SyncWorker finds in workerData. */
interface SyncWorkerInit<Data> {
  readonly flag: Int32Array;
  readonly answers: MessagePort;
  readonly data: Data;
}

export interface SyncWorkerOptions<Data> {
  /** Handed to the worker's `serveSync` handler factory. */
  readonly data: Data;
  /** How long a call may take. */
  readonly timeoutMs: number;
  /** How long start-up may take (default 60 s: loading TypeScript under tsx on a busy machine). */
  readonly startTimeoutMs?: number;
  readonly resourceLimits?: WorkerOptions['resourceLimits'];
}

export class SyncWorker<Request, Answer> {
  readonly #worker: Worker;
  readonly #flag = new Int32Array(new SharedArrayBuffer(4));
  readonly #answers: MessagePort;
  #timeoutMs: number;
  readonly #label: string;

  /** Starts the worker module at `entry` and returns once it is ready for requests. */
  constructor(entry: string, options: SyncWorkerOptions<unknown>) {
    const { port1, port2 } = new MessageChannel();
    const init: SyncWorkerInit<unknown> = { flag: this.#flag, answers: port2, data: options.data };
    this.#worker = startModuleWorker(entry, {
      workerData: init,
      transferList: [port2],
      ...(options.resourceLimits !== undefined ? { resourceLimits: options.resourceLimits } : {}),
    });
    // An idle worker must not keep a finished program alive.
    this.#worker.unref();
    port1.unref();
    // A worker that dies is noticed by the next call, which times out.
    this.#worker.on('error', () => undefined);
    this.#answers = port1;
    this.#label = new URL(entry).pathname.split('/').at(-1) ?? entry;
    this.#timeoutMs = options.startTimeoutMs ?? 60_000;
    try {
      this.receive();
    } catch (error) {
      this.terminate();
      throw error;
    }
    this.#timeoutMs = options.timeoutMs;
  }

  /** Posts a request; `receive` returns its answer. At most one request is outstanding. */
  send(request: Request, transfer: readonly TransferListItem[] = []): void {
    Atomics.store(this.#flag, 0, BUSY);
    this.#worker.postMessage(request, transfer);
  }

  /** Blocks until the outstanding request (or the start-up) is answered. */
  receive(): Answer {
    const deadline = performance.now() + this.#timeoutMs;
    while (Atomics.load(this.#flag, 0) === BUSY) {
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(`worker ${this.#label} did not answer within ${this.#timeoutMs} ms`);
      Atomics.wait(this.#flag, 0, BUSY, left);
    }
    const answer = receiveMessageOnPort(this.#answers)?.message as Answer | string | undefined;
    if (Atomics.load(this.#flag, 0) === FAILED) {
      throw new Error(`worker ${this.#label} failed: ${String(answer ?? 'no reason given')}`);
    }
    return answer as Answer;
  }

  call(request: Request, transfer: readonly TransferListItem[] = []): Answer {
    this.send(request, transfer);
    return this.receive();
  }

  terminate(): void {
    this.#answers.close();
    void this.#worker.terminate();
  }
}

/** What a request handler returns: the answer and the buffers to transfer with it. */
export interface Answered<Answer> {
  readonly answer: Answer;
  readonly transfer?: readonly TransferListItem[];
}

/**
 * The worker side: `makeHandler` gets the data the SyncWorker was started with and returns the
 * function that answers each request. Call once, at the top level of the worker module.
 */
export function serveSync<Data, Request, Answer>(
  makeHandler: (data: Data) => (request: Request) => Answered<Answer>,
): void {
  const { flag, answers, data } = workerData as SyncWorkerInit<Data>;
  const raise = (value: number) => {
    Atomics.store(flag, 0, value);
    Atomics.notify(flag, 0);
  };
  const handle = makeHandler(data);
  parentPort?.on('message', (request: Request) => {
    try {
      const { answer, transfer = [] } = handle(request);
      answers.postMessage(answer, transfer);
      raise(ANSWERED);
    } catch (error) {
      answers.postMessage(error instanceof Error ? error.message : String(error));
      raise(FAILED);
    }
  });
  // Ready: the constructor's receive() returns.
  answers.postMessage(undefined);
  raise(ANSWERED);
}
