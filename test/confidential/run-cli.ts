// Runs a command's main function in-process, capturing its exit status and what it printed.
import { mock } from 'node:test';

export async function runCli(
  main: (argv: string[]) => Promise<number>,
  argv: string[],
): Promise<{ status: number; out: string; err: string }> {
  const log = mock.method(console, 'log', () => {});
  const error = mock.method(console, 'error', () => {});
  try {
    const status = await main(argv);
    const text = (calls: typeof log.mock.calls) =>
      calls.map((c) => c.arguments.join(' ')).join('\n');
    return { status, out: text(log.mock.calls), err: text(error.mock.calls) };
  } finally {
    log.mock.restore();
    error.mock.restore();
  }
}
