/**
 * Calling many clients at once under one deadline. A client that rejects, throws or misses the
 * deadline becomes a failure; it never takes the other calls down with it.
 */
import type { ClientProxy } from './client.js';
import { TimeoutError } from './errors.js';

export const toError = (error: unknown): Error =>
  error instanceof Error ? error : new Error(String(error));

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as the signal fires, so a
 * callee that ignores its signal still cannot hold the caller past the deadline.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export type Outcome<T> =
  | { readonly client: ClientProxy; readonly value: T }
  | { readonly client: ClientProxy; readonly error: Error };

/**
 * Runs `call` for every client concurrently, all under one deadline of `timeoutMs` (none when
 * undefined). `onSettled` sees each outcome as it arrives; the result lists them in input order.
 */
export async function callAll<I, T>(
  calls: readonly { readonly client: ClientProxy; readonly ins: I }[],
  call: (client: ClientProxy, ins: I, signal: AbortSignal) => Promise<T>,
  options: {
    readonly phase: string;
    readonly timeoutMs: number | undefined;
    readonly onSettled?: (outcome: Outcome<T>) => void;
  },
): Promise<Outcome<T>[]> {
  const { timeoutMs, phase } = options;
  // One controller per call: a signal shared by thousands of calls would carry thousands of
  // listeners. The deadline aborts them all.
  const controllers = calls.map(() => new AbortController());
  let late = false;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          late = true;
          for (const controller of controllers) controller.abort();
        }, timeoutMs);
  try {
    return await Promise.all(
      calls.map(async ({ client, ins }, i): Promise<Outcome<T>> => {
        const { signal } = controllers[i] as AbortController;
        let outcome: Outcome<T>;
        try {
          outcome = { client, value: await raceAbort(call(client, ins, signal), signal) };
        } catch (error) {
          // Whatever the callee threw after the deadline, it was late.
          outcome = {
            client,
            error:
              late && timeoutMs !== undefined
                ? new TimeoutError(client.id, phase, timeoutMs)
                : toError(error),
          };
        }
        options.onSettled?.(outcome);
        return outcome;
      }),
    );
  } finally {
    clearTimeout(timer);
  }
}
