/**
 * `sepal vfl`: the vertical federated learning example (see vfl-example.ts), with its options,
 * a human summary or one JSON object.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './usage.js';
import { runVflExample, type VflReport } from './vfl-example.js';
import { EXAMPLE_HELP, EXAMPLE_OPTIONS, exampleSettings } from './vfl-options.js';

const HELP = `Usage: sepal vfl [options]
       sepal vfl active|passive [options]   (the two parties as two processes; see --help of each)

Vertical federated learning on Fashion-MNIST, in one process: a passive party holds the left 14
pixel columns of its images, an active party the right 14 columns and the labels; 80% of the
ids are common. PSI (ECDH over ristretto255, blinded with X25519) aligns them, split learning
trains across the cut layer, and the same network trained centrally on the intersection gives
the baseline.

Options:
${EXAMPLE_HELP}
                     (here the seed also drives PSI and the noise, so a run replays exactly)
  --json             print one JSON object
`;

const OPTIONS = {
  ...EXAMPLE_OPTIONS,
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

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
  const [role] = argv;
  if (role === 'active' || role === 'passive') {
    return (await import('./vfl-party.js')).main(role, argv.slice(1));
  }
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
  const report = await runVflExample({
    ...exampleSettings(values),
    ...(!values.json && { log: (line: string) => console.error(line) }),
  });
  console.log(values.json ? JSON.stringify(report) : summary(report));
  return report.ids.psiExact ? 0 : 1;
}
