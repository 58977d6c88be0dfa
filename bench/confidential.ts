/**
 * `npm run bench:confidential` (or `node --import tsx bench/confidential.ts`): what confidential
 * mode costs on the default federated job run over the deployment. Plain and confidential runs
 * alternate (so drift in the machine's load falls on both alike), REPEATS of each (default 3);
 * medians are compared.
 *
 * The job is the default one (bundled Fashion-MNIST subset, 100 IID partitions, MLP, FedAvg with
 * SecAgg+, 5 local epochs) for a fixed ROUNDS (default 5) with its target accuracy removed, so
 * both modes do the same work: 10 nodes (partitions 0-9, all sampled each round, as the default
 * samples 10 of 100) in 2 node processes, and `sepal server` as its own process.
 *
 * - plain: mutual TLS with the development PKI and allow-list; checkpoints and the exported
 *   model in the clear.
 * - confidential: the same, plus a signed manifest (src/, package files, the data subset)
 *   verified by the server and by every node at start-up, attested TLS with software evidence
 *   on both ends (policy pinning the manifest measurement), sealed checkpoints in SQLite and a
 *   sealed exported model.
 *
 * Measured per run: wall-clock from spawning the processes until the server exits, and the run
 * itself (the server's "run:" line to its "run finished" line). Writes
 * bench/results/confidential.json and .md with the load average. A node process is this file run
 * with `--nodes <url> <setup dir> <first> <count> <plain|confidential>`.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { parsePolicyText } from '../src/confidential/attestation/index.js';
import {
  readPublicKey,
  readSigningKey,
  writeSigningKeyPair,
} from '../src/confidential/key-files.js';
import {
  createManifest,
  serializeManifest,
  signManifest,
  verifyManifest,
} from '../src/confidential/manifest/index.js';
import { writeMountKeyFile } from '../src/confidential/sealed/index.js';
import { attestedNodeTls, startAttestedSide } from '../src/deploy/attested.js';
import { certPaths, createDevelopmentPki } from '../src/deploy/certs.js';
import { runNode } from '../src/deploy/client/node.js';
import { fleetTransport } from '../src/deploy/client/transport.js';
import { modelJob } from '../src/deploy/model-job.js';
import { ClientHost } from '../src/fl/client-host.js';
import { DEFAULT_CONFIG, resolveConfig } from '../src/sim/config.js';
import { median } from './stats.js';

type Mode = 'plain' | 'confidential';
const NODES = 10;
const NODE_PROCESSES = 2;
const MAX_MESSAGE_BYTES = 64 << 20;
const name = (i: number) => `node-${i}`;
/** What a release holds (paths relative to the checkout and to the release). */
const RELEASE_CODE = [
  'src',
  'bench/confidential.ts',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
];
const RELEASE_DATA = ['data/fashion-mnist-subset'];

/** The files a run needs, made once before any clock starts. */
function setupPaths(dir: string) {
  return {
    pki: join(dir, 'pki'),
    config: join(dir, 'job.json'),
    manifest: join(dir, 'manifest.json'),
    releaseKey: join(dir, 'release.pem'),
    policy: join(dir, 'policy.json'),
    sealKey: join(dir, 'seal.key'),
  };
}

/**
 * Loaded into every process of a run (`--import`): appends the process's CPU time (user +
 * system, all threads) to the file named by SEPAL_BENCH_CPU when it exits. CPU time is what the
 * modes cost the machine, and unlike wall-clock it hardly moves with what else runs on it.
 */
const CPU_PRELOAD = `import { appendFileSync } from 'node:fs';
process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  appendFileSync(process.env.SEPAL_BENCH_CPU, (user + system) / 1000 + '\\n');
});
`;

/** A node process: nodes first..first+count-1, each with its own connection and identity. */
async function nodes(url: string, dir: string, first: number, count: number, mode: Mode) {
  const paths = setupPaths(dir);
  const pki = certPaths(paths.pki);
  const ca = readFileSync(pki.ca, 'utf8');
  const config = resolveConfig(JSON.parse(readFileSync(paths.config, 'utf8')));
  const job = modelJob(config);
  // One after another: TensorFlow.js's backend set-up (src/models/tf.ts) is not safe to start
  // concurrently within one process.
  const hosts: ClientHost[] = [];
  for (let k = 0; k < count; k++) hosts.push(new ClientHost(await job.client(first + k)));
  await Promise.all(
    Array.from({ length: count }, async (_, k) => {
      const i = first + k;
      const files = pki.node(name(i));
      const identity = {
        cert: readFileSync(files.cert, 'utf8'),
        key: readFileSync(files.key, 'utf8'),
      };
      let tls;
      if (mode === 'plain') {
        tls = { ca, ...identity };
      } else {
        // What `sepal client --manifest … --attest software` does at start-up, per node.
        const manifest = await verifyManifest(
          paths.manifest,
          readPublicKey(`${paths.releaseKey}.pub`),
          '.',
        );
        const side = await startAttestedSide({
          attest: 'software',
          policy: parsePolicyText(readFileSync(paths.policy, 'utf8')),
          identity,
          ca,
          manifest,
        });
        tls = attestedNodeTls(side);
      }
      return runNode({
        transport: fleetTransport(url, MAX_MESSAGE_BYTES, tls),
        host: hosts[k] as ClientHost,
        backoff: { initialMs: 100, maxMs: 1000 },
      });
    }),
  );
}

interface RunFigures {
  readonly mode: Mode;
  readonly wallMs: number;
  /** CPU time of the server and node processes together. */
  readonly cpuMs: number;
  readonly runMs: number;
  readonly finalAccuracy: number | undefined;
  readonly loadavg: number[];
}

/** One run: `sepal server` and the node processes, until the server exits. */
async function run(dir: string, mode: Mode, index: number, port: number): Promise<RunFigures> {
  const paths = setupPaths(dir);
  const pki = certPaths(paths.pki);
  const runDir = join(dir, `run-${index}-${mode}`);
  mkdirSync(runDir);
  const url = `https://127.0.0.1:${port}`;
  const serverArgs = [
    ...['--config', paths.config, '--listen', `127.0.0.1:${port}`],
    ...['--db', join(runDir, 'server.db'), '--report', join(runDir, 'report.html')],
    ...['--cert', pki.serverCert, '--key', pki.serverKey, '--ca', pki.ca],
    ...['--allow-list', pki.allowList, '--min-nodes', String(NODES), '--json'],
    // Five nodes train in turn on one event loop of a loaded machine: their heartbeats can be
    // seconds late, and a node declared dead would abort the round (both modes alike).
    ...['--liveness-ms', '120000'],
    ...(mode === 'plain'
      ? ['--export-model', join(runDir, 'model.ckpt')]
      : [
          ...['--manifest', paths.manifest, '--trusted-key', `${paths.releaseKey}.pub`],
          ...['--attest', 'software', '--policy', paths.policy],
          ...['--sealed-key', paths.sealKey, '--seal-dir', join(runDir, 'sealed')],
          ...['--export-model', 'model.ckpt'],
        ]),
  ];
  const cpuFile = join(runDir, 'cpu.txt');
  const env = { ...process.env, SEPAL_BENCH_CPU: cpuFile };
  const preload = ['--import', 'tsx', '--import', pathToFileURL(join(dir, 'cpu.mjs')).href];
  const started = performance.now();
  const server = spawn(process.execPath, [...preload, 'src/cli/main.ts', 'server', ...serverArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: join(dir, 'release'),
    env,
  });
  const per = Math.ceil(NODES / NODE_PROCESSES);
  const children = Array.from({ length: NODE_PROCESSES }, (_, p) =>
    spawn(
      process.execPath,
      [
        ...[...preload, 'bench/confidential.ts', '--nodes', url, dir],
        ...[String(p * per), String(Math.min(per, NODES - p * per)), mode],
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], cwd: join(dir, 'release'), env },
    ),
  );
  let runStarted = 0;
  let runFinished = 0;
  let last = '';
  createInterface({ input: server.stdout }).on('line', (line) => {
    if (line.startsWith('run: rounds')) runStarted = performance.now();
    if (line.startsWith('run finished')) runFinished = performance.now();
    if (line.startsWith('round ')) console.log(`  ${mode} ${index}: ${line}`);
    last = line;
  });
  const code = await new Promise<number | null>((resolve) => server.once('exit', resolve));
  const wallMs = performance.now() - started;
  await Promise.all(
    children.map((child) =>
      child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined,
    ),
  );
  if (code !== 0) throw new Error(`${mode} run ${index}: sepal server exited ${code}`);
  const { history } = JSON.parse(last) as {
    history: { rounds: { aggregated: number; centralized?: { accuracy?: number } }[] };
  };
  // A run that lost a node did less work: its time would not be comparable.
  const partial = history.rounds.filter((round) => round.aggregated !== NODES);
  if (history.rounds.length === 0 || partial.length > 0) {
    throw new Error(`${mode} run ${index}: not every round aggregated all ${NODES} nodes`);
  }
  const cpu = readFileSync(cpuFile, 'utf8').trim().split('\n').map(Number);
  if (cpu.length !== 1 + NODE_PROCESSES) {
    throw new Error(`${mode} run ${index}: CPU time of ${cpu.length} processes`);
  }
  return {
    mode,
    wallMs,
    cpuMs: cpu.reduce((a, b) => a + b, 0),
    runMs: runFinished - runStarted,
    finalAccuracy: history.rounds.at(-1)?.centralized?.accuracy,
    loadavg: loadavg(),
  };
}

async function main() {
  const repeats = Number(process.env['REPEATS'] ?? 3);
  const rounds = Number(process.env['ROUNDS'] ?? 5);
  const out = process.env['BENCH_OUT'] ?? 'bench/results';
  const dir = mkdtempSync(join(tmpdir(), 'sepal-bench-confidential-'));
  const paths = setupPaths(dir);
  // The release both modes run: a snapshot of this checkout (others may edit it meanwhile), so
  // that the signed manifest describes exactly the code and data the processes load.
  const release = join(dir, 'release');
  for (const path of [...RELEASE_CODE, ...RELEASE_DATA]) {
    cpSync(path, join(release, path), { recursive: true });
  }
  symlinkSync(resolve('node_modules'), join(release, 'node_modules'));
  await createDevelopmentPki(
    paths.pki,
    Array.from({ length: NODES }, (_, i) => name(i)),
  );
  // A fixed number of rounds: without the target accuracy both modes do the same work.
  const config: Record<string, unknown> = {
    ...DEFAULT_CONFIG,
    rounds,
    fit: { ...DEFAULT_CONFIG.fit, fraction: 1, minClients: NODES },
  };
  delete config['targetAccuracy'];
  writeFileSync(paths.config, JSON.stringify(config));
  // The release: what the nodes and the server run and read, signed once.
  writeSigningKeyPair(paths.releaseKey);
  const manifest = await createManifest({
    root: release,
    code: [...RELEASE_CODE],
    data: [...RELEASE_DATA],
  });
  writeFileSync(
    paths.manifest,
    serializeManifest(signManifest(manifest, readSigningKey(paths.releaseKey))),
  );
  const { measurement } = await verifyManifest(
    paths.manifest,
    readPublicKey(`${paths.releaseKey}.pub`),
    release,
  );
  writeFileSync(
    paths.policy,
    JSON.stringify({ allowInsecure: true, software: { measurements: [measurement] } }),
  );
  await writeMountKeyFile(paths.sealKey);
  writeFileSync(join(dir, 'cpu.mjs'), CPU_PRELOAD);

  const runs: RunFigures[] = [];
  const loadBefore = loadavg();
  const port = 17000 + Math.floor(Math.random() * 20000);
  for (let r = 0; r < repeats; r++) {
    // Alternate which mode goes first, so neither always runs on a warmer or quieter machine.
    const order: Mode[] = r % 2 === 0 ? ['plain', 'confidential'] : ['confidential', 'plain'];
    for (const mode of order) {
      const figures = await run(dir, mode, r, port + runs.length);
      runs.push(figures);
      console.log(
        `${mode} ${r}: wall ${(figures.wallMs / 1000).toFixed(1)} s, run ${(figures.runMs / 1000).toFixed(1)} s, ` +
          `CPU ${(figures.cpuMs / 1000).toFixed(1)} s, ` +
          `load ${figures.loadavg[0]?.toFixed(1)}`,
      );
    }
  }
  const of = (mode: Mode, key: 'wallMs' | 'runMs' | 'cpuMs') =>
    median(runs.filter((r) => r.mode === mode).map((r) => r[key]));
  const summary = {
    plainWallMs: of('plain', 'wallMs'),
    confidentialWallMs: of('confidential', 'wallMs'),
    plainRunMs: of('plain', 'runMs'),
    confidentialRunMs: of('confidential', 'runMs'),
    plainCpuMs: of('plain', 'cpuMs'),
    confidentialCpuMs: of('confidential', 'cpuMs'),
  };
  const overheadWall = summary.confidentialWallMs / summary.plainWallMs - 1;
  const overheadRun = summary.confidentialRunMs / summary.plainRunMs - 1;
  const overheadCpu = summary.confidentialCpuMs / summary.plainCpuMs - 1;
  const result = {
    command: 'npm run bench:confidential',
    date: new Date().toISOString(),
    cpus: cpus().length,
    loadavgBefore: loadBefore,
    loadavgAfter: loadavg(),
    job: config,
    nodes: NODES,
    nodeProcesses: NODE_PROCESSES,
    repeats,
    summary: { ...summary, overheadWall, overheadRun, overheadCpu, target: 0.1 },
    runs,
  };
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'confidential.json'), `${JSON.stringify(result, null, 2)}\n`);
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  const percent = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
  writeFileSync(
    join(out, 'confidential.md'),
    [
      `Default job over the deployment, ${rounds} rounds, ${NODES} nodes in ${NODE_PROCESSES} processes, ` +
        `median of ${repeats} alternating runs each; load average ${loadBefore[0]?.toFixed(1)} before, ` +
        `${result.loadavgAfter[0]?.toFixed(1)} after, on ${cpus().length} cores.`,
      '',
      '| mode | wall s (processes start to server exit) | run s (first round to finish) | CPU s (all processes) |',
      '|---|---|---|---|',
      `| plain | ${seconds(summary.plainWallMs)} | ${seconds(summary.plainRunMs)} | ${seconds(summary.plainCpuMs)} |`,
      `| confidential | ${seconds(summary.confidentialWallMs)} | ${seconds(summary.confidentialRunMs)} | ${seconds(summary.confidentialCpuMs)} |`,
      `| overhead | ${percent(overheadWall)} | ${percent(overheadRun)} | ${percent(overheadCpu)} |`,
      '',
    ].join('\n'),
  );
  console.log(
    `wall: plain ${seconds(summary.plainWallMs)} s, confidential ${seconds(summary.confidentialWallMs)} s (${percent(overheadWall)}); ` +
      `run: ${seconds(summary.plainRunMs)} s vs ${seconds(summary.confidentialRunMs)} s (${percent(overheadRun)}); ` +
      `CPU: ${seconds(summary.plainCpuMs)} s vs ${seconds(summary.confidentialCpuMs)} s (${percent(overheadCpu)}); target <= +10%`,
  );
}

if (process.argv[2] === '--nodes') {
  const [url, dir, first, count, mode] = process.argv.slice(3);
  await nodes(url as string, dir as string, Number(first), Number(count), mode as Mode);
} else {
  await main();
}
