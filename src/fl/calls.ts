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
  const controller = new AbortController();
  const { timeoutMs, phase } = options;
  const timer =
    timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await Promise.all(
      calls.map(async ({ client, ins }): Promise<Outcome<T>> => {
        let outcome: Outcome<T>;
        try {
          const value = await raceAbort(call(client, ins, controller.signal), controller.signal);
          outcome = { client, value };
        } catch (error) {
          // Only the deadline aborts this controller: whatever the callee threw then, it was late.
          outcome = {
            client,
            error:
              controller.signal.aborted && timeoutMs !== undefined
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
