/**
 * `sepal vfl`: the vertical federated learning example (see vfl-example.ts), with its options,
 * a human summary or one JSON object.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './usage.js';
import { runVflExample, type VflReport } from './vfl-example.js';

const HELP = `Usage: sepal vfl [options]

Vertical federated learning on Fashion-MNIST, in one process: a passive party holds the left 14
pixel columns of its images, an active party the right 14 columns and the labels; 80% of the
ids are common. PSI (ECDH over ristretto255) aligns them, split learning trains across the cut
layer, and the same network trained centrally on the intersection gives the baseline.

Options:
  --examples N       training images drawn on (the union of both parties' ids; default 6000)
  --epochs E         passes over the aligned rows (default 5)
  --noise S          std of Gaussian noise on cut-layer embeddings, and S per example on
                     gradients (default 0: none); a heuristic, not a DP guarantee
  --batch-size B     (default 64)
  --learning-rate R  Adam's, at each party and centrally (default 0.001)
  --seed X           ids held, row orders, PSI, batches, initial weights, noise (default 1)
  --data-dir DIR     the four Fashion-MNIST files (default: the system's, else the bundled subset)
  --subset           use the bundled subset
  --json             print one JSON object
`;

const OPTIONS = {
  examples: { type: 'string' },
  epochs: { type: 'string' },
  noise: { type: 'string' },
  'batch-size': { type: 'string' },
  'learning-rate': { type: 'string' },
  seed: { type: 'string' },
  'data-dir': { type: 'string' },
  subset: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

function number(raw: string | undefined, name: string, fallback: number, integer: boolean): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  const ok =
    raw.trim() !== '' &&
    Number.isFinite(value) &&
    value >= 0 &&
    (!integer || Number.isInteger(value));
  if (!ok)
    throw new UsageError(
      `--${name} must be a ${integer ? 'non-negative integer' : 'number >= 0'}, got ${raw}`,
    );
  return value;
}

function summary(r: VflReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  const gap = r.testAccuracy.gapPoints;
  return [
    `sepal vfl: Fashion-MNIST (${r.source}), ${r.examples} training images`,
    `  ids: passive ${r.ids.passive}, active ${r.ids.active}, common ${r.ids.common}` +
      ` (PSI ${r.ids.psiExact ? 'exact' : 'WRONG'})`,
    `  PSI: ${r.psi.seconds.toFixed(1)} s in one process` +
      ` (passive ${r.psi.partySeconds[0].toFixed(1)} s, active ${r.psi.partySeconds[1].toFixed(1)} s),` +
      ` ${kib(r.psi.bytes[0])} + ${kib(r.psi.bytes[1])} sent`,
    `  training: ${r.training.epochs} epochs, ${r.training.steps} steps, noise ${r.training.noise};` +
      ` split ${r.training.splitSeconds.toFixed(1)} s, central ${r.training.centralSeconds.toFixed(1)} s`,
    `  last-epoch loss: split ${r.finalLoss.split.toFixed(4)}, central ${r.finalLoss.central.toFixed(4)}`,
    `  test accuracy: split ${pct(r.testAccuracy.split)}, central ${pct(r.testAccuracy.central)},` +
      ` gap ${gap.toFixed(2)} points (${Math.abs(gap) <= 1 ? 'within' : 'NOT within'} 1 point)`,
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.subset && values['data-dir'] !== undefined) {
    throw new UsageError('give either --data-dir or --subset, not both');
  }
  const positive = (name: string, value: number) => {
    if (value < 1) throw new UsageError(`--${name} must be at least 1`);
    return value;
  };
  const report = await runVflExample({
    examples: positive('examples', number(values.examples, 'examples', 6000, true)),
    epochs: positive('epochs', number(values.epochs, 'epochs', 5, true)),
    noise: number(values.noise, 'noise', 0, false),
    batchSize: positive('batch-size', number(values['batch-size'], 'batch-size', 64, true)),
    learningRate: number(values['learning-rate'], 'learning-rate', 0.001, false),
    seed: number(values.seed, 'seed', 1, true),
    ...(values['data-dir'] !== undefined && { dataDir: values['data-dir'] }),
    ...(values.subset && { subset: true }),
    ...(!values.json && { log: (line: string) => console.error(line) }),
  });
  console.log(values.json ? JSON.stringify(report) : summary(report));
  return report.ids.psiExact ? 0 : 1;
}
