/**
 * `sepal server --config <job>`: runs a job's server over the network. Nodes (`sepal client`)
 * connect, the rounds run as in `sepal simulate`, the state lives in SQLite (restart the command
 * after a crash and it resumes), and the run's HTML report is written at the end.
 */
import { parseArgs } from 'node:util';
import type { ServerEvent } from '../fl/events.js';
import type { RoundRecord } from '../fl/history.js';
import type { NodeEvent } from '../deploy/server/fleet.js';
import { startFleetServer, type WaitingEvent } from '../deploy/server/fleet-server.js';
import { writeReport } from '../report/write.js';
import {
  loadJob,
  MANIFEST_HELP,
  MANIFEST_OPTIONS,
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
${MANIFEST_HELP}
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
function describe(event: ServerEvent | NodeEvent | WaitingEvent): string | undefined {
  switch (event.type) {
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
        cert: { type: 'string' },
        key: { type: 'string' },
        ca: { type: 'string' },
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
        ...MANIFEST_OPTIONS,
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
  const { config, job, identity } = await loadJob(flags);
  const tls = tlsFiles(flags, ['cert', 'key', 'ca'] as const);
  const allowList = stringFlag(flags, 'allow-list');
  if (allowList !== undefined && tls === undefined) {
    throw new UsageError('--allow-list needs TLS (--cert, --key, --ca)');
  }
  const heartbeatIntervalMs = numberFlag(flags, 'heartbeat-ms', 2000, 10);
  const rate = numberFlag(flags, 'rate', 20, 1);
  const startedAt = new Date().toISOString();
  const server = await startFleetServer({
    ...parseListen(stringFlag(flags, 'listen') ?? '127.0.0.1:7443'),
    ...(tls === undefined ? {} : { tls }),
    ...(allowList === undefined ? {} : { allowList }),
    database: stringFlag(flags, 'db') ?? 'sepal-server.db',
    job: identity,
    newRun: flags['new-run'] === true,
    strategy: await job.strategy(),
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
    onEvent: (event) => {
      const line = describe(event);
      if (line !== undefined) console.log(line);
    },
    onInternalError: (error, method) => console.error(`internal error in ${method}:`, error),
  });
  if (tls === undefined) {
    console.log('warning: no TLS; nodes are not authenticated and traffic is not encrypted');
  }
  console.log(
    `listening on ${server.url}, run ${server.runId}${server.resumed ? ' (resumed)' : ''}`,
  );
  const result = await server.run();
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
