/**
 * `sepal server --config <job>`: runs a job's server over the network. Nodes (`sepal client`)
 * connect, the rounds run as in `sepal simulate`, the state lives in SQLite (restart the command
 * after a crash and it resumes), and the run's HTML report is written at the end.
 */
import { parseArgs } from 'node:util';
import type { ServerEvent } from '../fl/events.js';
import type { RoundRecord } from '../fl/history.js';
import type { NodeEvent } from '../deploy/server/fleet.js';
import {
  startFleetServer,
  type FleetServer,
  type WaitingEvent,
} from '../deploy/server/fleet-server.js';
import { DeployFileError } from '../deploy/errors.js';
import { DATABASE_SEAL_LABEL } from '../deploy/server/store.js';
import { writeReport } from '../report/write.js';
import { encodeCheckpoint } from '../fl/checkpoint.js';
import { FileCheckpointStore } from '../fl/checkpoint-file.js';
import type { RunResult } from '../fl/server.js';
import { MountKeyError, readMountKeyFile, SealedMount } from '../confidential/sealed/index.js';
import { zeroize } from '../crypto/bytes.js';
import { attestedServerTls, describeClaims, type AttestationEvent } from '../deploy/attested.js';
import {
  ATTEST_HELP,
  ATTEST_OPTIONS,
  attestedSideOf,
  loadJob,
  MANIFEST_HELP,
  MANIFEST_OPTIONS,
  TLS_OPTIONS,
  numberFlag,
  stringFlag,
  tlsFiles,
  type Flags,
} from './client-server-flags.js';
import { UsageError } from './usage.js';

const HELP = `Usage: sepal server --config <job.json|.ts> [options]

Runs the job's server: nodes connect with \`sepal client\`, which pulls its work.

  --config FILE          the job, as for \`sepal simulate\`
  --listen HOST:PORT     address to serve on (default 127.0.0.1:7443; port 0 picks one)
  --db FILE              SQLite database of runs and checkpoints (default sepal-server.db)
  --report FILE          the run's HTML report (default sepal-report.html)
  --cert, --key FILE     the server's TLS certificate and key (PEM)
  --ca FILE              CA of the nodes' client certificates (PEM); TLS needs all three
  --allow-list FILE      "<name> <key>" lines: the node keys accepted (needs TLS)
  --min-nodes N          nodes to wait for before the first round (default fit.minClients)
  --heartbeat-ms MS      heartbeat interval asked of nodes (default 2000)
  --liveness-ms MS       silence after which a node is dead (default 3 heartbeats)
  --poll-ms MS           longest wait of one task poll (default 15000)
  --stage-timeout-ms MS  deadline of each secure-aggregation stage (default roundTimeoutMs)
  --max-message-mb MB    largest message either way (default 64)
  --rate N               requests per second allowed per node, bursts of 2N (default 20)
  --new-run              abandon an unfinished run of another job in the database
  --synthetic-dim L      a synthetic model of L parameters instead of the config's model
  --export-model PATH    write the final model (checkpoint format) to PATH; with --sealed-key,
                         PATH is inside the --seal-dir mount and the file is sealed
  --sealed-key FILE      seal every checkpoint in the database and the exported model with this
                         mount key (sepal seal keygen); required with --attest
  --seal-dir DIR         the sealed mount for --export-model (open it with sepal unseal)
${MANIFEST_HELP}
${ATTEST_HELP}
  --json                 print the run's History as JSON on the last line
`;

function parseListen(raw: string): { host: string; port: number } {
  const at = raw.lastIndexOf(':');
  const port = Number(raw.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--listen must be HOST:PORT, got ${raw}`);
  }
  return { host: raw.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port };
}

/** One line per event: progress for a terminal and a parseable log for scripts and tests. */
function describe(
  event: ServerEvent | NodeEvent | WaitingEvent | AttestationEvent,
): string | undefined {
  switch (event.type) {
    case 'peer-attested':
      return `attested ${event.peer} (key ${event.key}): ${describeClaims(event.claims)}`;
    case 'peer-refused':
      return `refused ${event.peer}: ${event.reason}`;
    case 'waiting':
      return `waiting for nodes: ${event.registered}/${event.needed}`;
    case 'registered':
      return `node ${event.node} registered`;
    case 'dead':
      return `node ${event.node} gone: ${event.reason}`;
    case 'run-started':
      return `run: rounds ${event.firstRound}..${event.numRounds}`;
    case 'round-started':
      return `round ${event.round}: ${event.sampled} nodes sampled${event.secure ? ', secure aggregation' : ''}`;
    case 'secagg-stage':
      return `round ${event.round}: ${event.stage} ${event.ms.toFixed(0)} ms, ${event.active} active`;
    case 'client-dropped':
      return `round ${event.round}: node ${event.client} dropped at ${event.stage}: ${event.reason}`;
    case 'round-finished': {
      const { record } = event;
      const evaluation = record.centralized ?? record.distributed;
      const { loss, accuracy } = evaluation ?? {};
      return [
        `round ${event.round} done: aggregated ${record.aggregated}`,
        `dropped [${record.dropped.join(', ')}]`,
        ...(loss === undefined ? [] : [`loss ${loss.toPrecision(4)}`]),
        ...(accuracy === undefined ? [] : [`accuracy ${(100 * accuracy).toFixed(1)}%`]),
        ...(record.aborted === undefined ? [] : [`aborted: ${record.aborted}`]),
        `${(record.durationMs / 1000).toFixed(2)} s`,
      ].join(', ');
    }
    case 'fit-finished':
    case 'evaluate-finished':
      return undefined;
  }
}

interface Sealing {
  /** Seals the database's checkpoint blobs (its own label: they never open as files). */
  readonly database: SealedMount;
  /** The --seal-dir mount (default label, so `sepal unseal` opens what is written there). */
  readonly files: SealedMount;
  close(): void;
}

/** --sealed-key / --seal-dir: one key, two mounts with unrelated keys (HKDF labels). */
async function sealingOf(flags: Flags): Promise<Sealing | undefined> {
  const keyFile = stringFlag(flags, 'sealed-key');
  const dir = stringFlag(flags, 'seal-dir');
  if (keyFile === undefined) {
    if (dir !== undefined) throw new UsageError('--seal-dir needs --sealed-key');
    return undefined;
  }
  if (dir === undefined && stringFlag(flags, 'export-model') !== undefined) {
    throw new UsageError('--export-model with --sealed-key needs --seal-dir (the sealed mount)');
  }
  let key: Uint8Array;
  try {
    key = await readMountKeyFile(keyFile);
  } catch (error) {
    if (error instanceof MountKeyError) throw new UsageError(`--sealed-key: ${error.message}`);
    throw error;
  }
  const database = new SealedMount(dir ?? '.', key, { label: DATABASE_SEAL_LABEL });
  const files = new SealedMount(dir ?? '.', key);
  zeroize(key);
  return {
    database,
    files,
    close() {
      database.close();
      files.close();
    },
  };
}

/** The final model as a checkpoint: plain to `path`, or sealed as `path` in the mount. */
async function exportModel(
  path: string,
  result: RunResult,
  strategy: string,
  mount: SealedMount | undefined,
): Promise<void> {
  const checkpoint = {
    round: result.history.rounds.at(-1)?.round ?? 0,
    parameters: result.parameters,
    history: result.history,
    strategy,
    strategyState: [],
  };
  if (mount === undefined) await new FileCheckpointStore(path).save(checkpoint);
  else await mount.writeFile(path, encodeCheckpoint(checkpoint));
}

export async function main(argv: string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        listen: { type: 'string' },
        db: { type: 'string' },
        report: { type: 'string' },
        ...TLS_OPTIONS,
        'allow-list': { type: 'string' },
        'min-nodes': { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        'liveness-ms': { type: 'string' },
        'poll-ms': { type: 'string' },
        'stage-timeout-ms': { type: 'string' },
        'max-message-mb': { type: 'string' },
        rate: { type: 'string' },
        'new-run': { type: 'boolean' },
        'synthetic-dim': { type: 'string' },
        'export-model': { type: 'string' },
        'sealed-key': { type: 'string' },
        'seal-dir': { type: 'string' },
        ...MANIFEST_OPTIONS,
        ...ATTEST_OPTIONS,
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (flags['help'] === true) {
    console.log(HELP);
    return 0;
  }
  const { config, job, identity, manifest } = await loadJob(flags);
  const tls = tlsFiles(flags, ['cert', 'key', 'ca'] as const);
  const allowList = stringFlag(flags, 'allow-list');
  if (allowList !== undefined && tls === undefined) {
    throw new UsageError('--allow-list needs TLS (--cert, --key, --ca)');
  }
  const sealing = await sealingOf(flags);
  const attested = await attestedSideOf(flags, tls, manifest);
  if (attested !== undefined && sealing === undefined) {
    throw new UsageError(
      '--attest needs --sealed-key: in confidential mode checkpoints and models are written only sealed',
    );
  }
  const onEvent = (event: ServerEvent | NodeEvent | WaitingEvent | AttestationEvent) => {
    const line = describe(event);
    if (line !== undefined) console.log(line);
  };
  const heartbeatIntervalMs = numberFlag(flags, 'heartbeat-ms', 2000, 10);
  const rate = numberFlag(flags, 'rate', 20, 1);
  const strategy = await job.strategy();
  const startedAt = new Date().toISOString();
  let server: FleetServer;
  try {
    server = await startFleetServer({
      ...parseListen(stringFlag(flags, 'listen') ?? '127.0.0.1:7443'),
      ...(tls === undefined ? {} : { tls: attested ? attestedServerTls(attested, onEvent) : tls }),
      ...(allowList === undefined ? {} : { allowList }),
      database: stringFlag(flags, 'db') ?? 'sepal-server.db',
      ...(sealing === undefined ? {} : { sealer: sealing.database }),
      job: identity,
      newRun: flags['new-run'] === true,
      strategy,
      numRounds: config.rounds,
      ...(config.targetAccuracy === undefined
        ? {}
        : {
            stopWhen: (record: RoundRecord) =>
              (record.centralized?.accuracy ?? 0) >= (config.targetAccuracy as number),
          }),
      minNodes: numberFlag(flags, 'min-nodes', config.fit.minClients, 1),
      roundTimeoutMs: config.roundTimeoutMs,
      secAggStageTimeoutMs: numberFlag(flags, 'stage-timeout-ms', config.roundTimeoutMs, 1),
      heartbeatIntervalMs,
      livenessTimeoutMs: numberFlag(
        flags,
        'liveness-ms',
        3 * heartbeatIntervalMs,
        heartbeatIntervalMs,
      ),
      pollTimeoutMs: numberFlag(flags, 'poll-ms', 15_000, 10),
      maxMessageBytes: Math.round(numberFlag(flags, 'max-message-mb', 64, 0.001) * 2 ** 20),
      rateLimit: { perSecond: rate, burst: 2 * rate },
      onEvent,
      onInternalError: (error, method) => console.error(`internal error in ${method}:`, error),
    });
  } catch (error) {
    // A database or checkpoint it cannot use (another job's run, a tampered or foreign sealed
    // checkpoint): say which and why, and stop before serving anyone.
    if (!(error instanceof DeployFileError)) throw error;
    console.error(`sepal server: ${error.message}`);
    sealing?.close();
    return 1;
  }
  if (tls === undefined) {
    console.log('warning: no TLS; nodes are not authenticated and traffic is not encrypted');
  }
  console.log(
    `listening on ${server.url}, run ${server.runId}${server.resumed ? ' (resumed)' : ''}`,
  );
  const result = await server.run();
  const exported = stringFlag(flags, 'export-model');
  if (exported !== undefined) {
    await exportModel(exported, result, strategy.name, sealing?.files);
    console.log(
      `model written to ${exported}${sealing ? ` (sealed in ${sealing.files.root})` : ''}`,
    );
  }
  sealing?.close();
  const report = stringFlag(flags, 'report') ?? 'sepal-report.html';
  await writeReport(report, {
    title: `${config.name} (deployed)`,
    history: result.history,
    config,
    startedAt,
    finishedAt: new Date().toISOString(),
    notes: [`run ${server.runId}, served at ${server.url}`],
  });
  console.log(`run finished; report written to ${report}`);
  // Nodes learn that the run is over at their next poll; give them a moment before closing.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await server.close();
  if (flags['json'] === true)
    console.log(JSON.stringify({ runId: server.runId, history: result.history }));
  return 0;
}
