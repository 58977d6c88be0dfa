/**
 * `node --import tsx bench/deploy-load.ts`: load on the networked server. N nodes (default
 * 1,000), each with its own HTTP/2 connection over mutual TLS with its own allow-listed Ed25519
 * key, spread over P node processes (default 4), complete one SecAgg+ round (shareNum 51,
 * threshold 26) of FedAvg on a synthetic model of L = 10,000 parameters.
 *
 * The server runs in this process, so its CPU time and peak RSS are this process's (the PKI is
 * made before the clock starts). Reports registration time, time per SecAgg stage, the round's
 * time, server CPU and peak memory, and whether the new parameters are the weighted mean of the
 * nodes' updates within one quantization step. Writes bench/results/deploy-load.json.
 *
 * Environment: BENCH_NODES, BENCH_PROCESSES, BENCH_DIM, BENCH_OUT. A node process is this file
 * run with `--nodes <url> <pki dir> <first> <count> <dim>`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { certPaths, createDevelopmentPki, serverTlsFiles } from '../src/deploy/certs.js';
import { runNode } from '../src/deploy/client/node.js';
import { fleetTransport } from '../src/deploy/client/transport.js';
import { startFleetServer } from '../src/deploy/server/fleet-server.js';
import {
  syntheticClient,
  syntheticJob,
  syntheticUpdate,
  syntheticWeight,
} from '../src/deploy/synthetic.js';
import { ClientHost } from '../src/fl/client-host.js';
import type { SecAggOptions } from '../src/secagg/params.js';
import type { Stage } from '../src/secagg/stages.js';
import { resolveConfig } from '../src/sim/config.js';

const MAX_MESSAGE_BYTES = 16 << 20;
const SECAGG = {
  shareNum: 51,
  threshold: 26,
  clippingRange: 8,
  targetRange: 4096,
  maxWeight: 1000,
} satisfies SecAggOptions;
const QUANTIZATION_STEP = (2 * SECAGG.clippingRange) / (SECAGG.targetRange - 1);
const name = (i: number) => `node-${i}`;

/** A node process: `count` nodes from `first`, each with its own connection and identity. */
async function nodes(url: string, pki: string, first: number, count: number, dim: number) {
  // The benchmark holds our stdin open: when it ends, whatever the reason, so do we.
  process.stdin.on('end', () => process.exit(0)).resume();
  const paths = certPaths(pki);
  const ca = readFileSync(paths.ca, 'utf8');
  await Promise.all(
    Array.from({ length: count }, (_, k) => {
      const i = first + k;
      const files = paths.node(name(i));
      return runNode({
        transport: fleetTransport(url, MAX_MESSAGE_BYTES, {
          ca,
          cert: readFileSync(files.cert, 'utf8'),
          key: readFileSync(files.key, 'utf8'),
        }),
        host: new ClientHost(syntheticClient(i, dim)),
        backoff: { initialMs: 200, maxMs: 2000 },
      });
    }),
  );
}

async function main() {
  const total = Number(process.env['BENCH_NODES'] ?? 1000);
  const processes = Number(process.env['BENCH_PROCESSES'] ?? 4);
  const dim = Number(process.env['BENCH_DIM'] ?? 10_000);
  const out = process.env['BENCH_OUT'] ?? 'bench/results';
  const dir = mkdtempSync(join(tmpdir(), 'sepal-deploy-load-'));
  const pki = join(dir, 'pki');
  console.log(`making ${total} node identities ...`);
  await createDevelopmentPki(
    pki,
    Array.from({ length: total }, (_, i) => name(i)),
  );
  const paths = certPaths(pki);
  const config = resolveConfig({
    model: 'mlp',
    clients: total,
    rounds: 1,
    fit: { fraction: 1, minClients: total },
    evaluate: { fraction: 0, centralized: false },
    secureAggregation: SECAGG,
    roundTimeoutMs: 600_000,
  });

  const cpuAtStart = process.cpuUsage();
  const stageMs: Partial<Record<Stage, number>> = {};
  const startedAt = performance.now();
  let registeredAt = 0;
  let cpuAtRegistered = { user: 0, system: 0 };
  const server = await startFleetServer({
    host: '127.0.0.1',
    port: 0,
    tls: serverTlsFiles(paths),
    allowList: paths.allowList,
    database: join(dir, 'server.db'),
    job: JSON.stringify(config),
    strategy: await syntheticJob(config, dim).strategy(),
    numRounds: 1,
    minNodes: total,
    roundTimeoutMs: config.roundTimeoutMs,
    heartbeatIntervalMs: 5000,
    livenessTimeoutMs: 60_000,
    pollTimeoutMs: 20_000,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    rateLimit: { perSecond: 20, burst: 40 },
    onEvent: (event) => {
      if (event.type === 'run-started') {
        registeredAt = performance.now();
        cpuAtRegistered = process.cpuUsage(cpuAtStart);
        console.log(`${total} nodes registered after ${(registeredAt - startedAt).toFixed(0)} ms`);
      }
      if (event.type === 'fit-finished' && event.error !== undefined) console.error(event.error);
      if (event.type === 'secagg-stage') {
        stageMs[event.stage] = event.ms;
        console.log(`${event.stage}: ${event.ms.toFixed(0)} ms, ${event.active} active`);
      }
    },
  });
  const per = Math.ceil(total / processes);
  const children = Array.from({ length: processes }, (_, p) =>
    spawn(
      process.execPath,
      [
        ...['--import', 'tsx', 'bench/deploy-load.ts', '--nodes', server.url, pki],
        ...[String(p * per), String(Math.min(per, total - p * per)), String(dim)],
      ],
      { stdio: ['pipe', 'ignore', 'inherit'] },
    ),
  );
  const { history, parameters } = await server.run();
  const roundMs = performance.now() - registeredAt;
  const cpu = process.cpuUsage(cpuAtStart);
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  await Promise.all(
    children.map((child) => {
      child.stdin?.end();
      return new Promise((resolve) => child.once('exit', resolve));
    }),
  );
  await server.close();

  // The new parameters must be the weighted mean of all updates, within one quantization step.
  const weights = Array.from({ length: total }, (_, i) =>
    Math.min(syntheticWeight(i), SECAGG.maxWeight),
  );
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const values = parameters[0]?.values ?? new Float32Array(0);
  let maxError = 0;
  for (let j = 0; j < dim; j++) {
    let mean = 0;
    for (let i = 0; i < total; i++)
      mean += ((weights[i] as number) * syntheticUpdate(i, j)) / weightSum;
    maxError = Math.max(maxError, Math.abs((values[j] as number) - mean));
  }
  const record = history.rounds[0];
  const result = {
    command: 'node --import tsx bench/deploy-load.ts',
    date: new Date().toISOString(),
    commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
    machine: { cpus: cpus()[0]?.model, cores: cpus().length },
    nodes: total,
    nodeProcesses: processes,
    connections:
      'one HTTP/2 connection per node, mutual TLS 1.3, Ed25519 node keys on an allow-list',
    dim,
    secAgg: SECAGG,
    registrationMs: Math.round(registeredAt - startedAt),
    stageMs: Object.fromEntries(Object.entries(stageMs).map(([k, v]) => [k, Math.round(v)])),
    roundMs: Math.round(roundMs),
    serverCpuMs: Math.round((cpu.user + cpu.system) / 1000),
    serverCpuMsRegistration: Math.round((cpuAtRegistered.user + cpuAtRegistered.system) / 1000),
    serverPeakRssMb: Math.round(peakRssMb),
    survivors: record?.secAgg?.survivors,
    bytesUpPerNode: record?.secAgg?.bytesUpPerClient,
    bytesDownPerNode: record?.secAgg?.bytesDownPerClient,
    maxErrorVsMean: maxError,
    quantizationStep: QUANTIZATION_STEP,
    correct: record?.aggregated === total && maxError <= QUANTIZATION_STEP,
  };
  writeFileSync(join(out, 'deploy-load.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
}

const args = process.argv.slice(2);
if (args[0] === '--nodes') {
  const [url, pki, first, count, dim] = args.slice(1);
  await nodes(url as string, pki as string, Number(first), Number(count), Number(dim));
} else {
  await main();
}
