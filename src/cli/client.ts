/**
 * `sepal client --server <url> --config <job>`: one node of a deployed job. It trains on its
 * partition of the job's data with the same Client and secure-aggregation host as a simulated
 * client, reconnects by itself when the server restarts, and exits when the run is over.
 */
import { parseArgs } from 'node:util';
import { ClientHost } from '../fl/client-host.js';
import { runNode, type NodeEvent, type TaskHost } from '../deploy/client/node.js';
import { fleetTransport } from '../deploy/client/transport.js';
import { PeerAttestationError } from '../deploy/errors.js';
import { attestedNodeTls } from '../deploy/attested.js';
import {
  ATTEST_HELP,
  ATTEST_OPTIONS,
  attestedSideOf,
  loadJob,
  MANIFEST_HELP,
  MANIFEST_OPTIONS,
  TLS_OPTIONS,
  numberFlag,
  requiredFlag,
  stringFlag,
  tlsFiles,
  type Flags,
} from './client-server-flags.js';
import { UsageError } from './usage.js';

const HELP = `Usage: sepal client --server <url> --config <job.json|.ts> [options]

Runs one node of the job: registers with the server, pulls tasks, trains, masks, answers.

  --server URL           the server (https://host:port with TLS, http://host:port without)
  --config FILE          the job, as for \`sepal simulate\`
  --partition I          this node's data partition, 0 <= I < clients (default 0)
  --name NAME            the node's name when the server has no TLS (default node-<I>);
                         with TLS, the allow-list's name for this node's key
  --ca FILE              the CA of the server's certificate (PEM)
  --cert, --key FILE     this node's certificate and Ed25519 identity key (PEM); TLS needs all three
  --max-message-mb MB    largest message either way (default 64)
  --answer-delay-ms MS   wait this long before each answer (simulates a slow node)
  --max-backoff-ms MS    longest wait between reconnection attempts (default 10000)
  --synthetic-dim L      a synthetic model of L parameters instead of the config's model
${MANIFEST_HELP}
${ATTEST_HELP}
`;

/** A host whose every answer is late by `ms`. */
function delayed(host: TaskHost, ms: number): TaskHost {
  const later = async <T>(value: T | Promise<T>): Promise<T> => {
    const result = await value;
    await new Promise((resolve) => setTimeout(resolve, ms));
    return result;
  };
  return {
    getParameters: (config) => later(host.getParameters(config)),
    fit: (ins) => later(host.fit(ins)),
    evaluate: (ins) => later(host.evaluate(ins)),
    secAgg: (round, message) => later(host.secAgg(round, message)),
  };
}

function describe(event: NodeEvent): string {
  switch (event.type) {
    case 'registered':
      return `registered as ${event.node}, run ${event.runId}`;
    case 'task':
      return `round ${event.round}: ${event.kind}${event.stage === undefined ? '' : ` ${event.stage}`}`;
    case 'retry':
      return `server unreachable (${event.error}); retrying in ${event.delayMs} ms`;
    case 'refused':
      return `result refused: ${event.error}`;
    case 'finished':
      return 'run finished';
  }
}

export async function main(argv: string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseArgs({
      args: argv,
      options: {
        server: { type: 'string' },
        config: { type: 'string' },
        partition: { type: 'string' },
        name: { type: 'string' },
        ...TLS_OPTIONS,
        'max-message-mb': { type: 'string' },
        'answer-delay-ms': { type: 'string' },
        'max-backoff-ms': { type: 'string' },
        'synthetic-dim': { type: 'string' },
        ...MANIFEST_OPTIONS,
        ...ATTEST_OPTIONS,
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
  const { config, job, manifest } = await loadJob(flags);
  const partition = numberFlag(flags, 'partition', 0);
  if (!Number.isInteger(partition) || partition >= config.clients) {
    throw new UsageError(`--partition must be a whole number below clients (${config.clients})`);
  }
  const server = requiredFlag(flags, 'server');
  const tls = tlsFiles(flags, ['ca', 'cert', 'key'] as const);
  const attested = await attestedSideOf(flags, tls, manifest);
  const transport = fleetTransport(
    server,
    Math.round(numberFlag(flags, 'max-message-mb', 64, 0.001) * 2 ** 20),
    attested === undefined ? tls : attestedNodeTls(attested),
  );
  const host = new ClientHost(await job.client(partition));
  const delayMs = numberFlag(flags, 'answer-delay-ms', 0);
  try {
    await runNode({
      transport,
      host: delayMs > 0 ? delayed(host, delayMs) : host,
      // With TLS the allow-list names the node; without, it goes by --name or its partition.
      nodeName: stringFlag(flags, 'name') ?? (tls === undefined ? `node-${partition}` : ''),
      backoff: { initialMs: 100, maxMs: numberFlag(flags, 'max-backoff-ms', 10_000, 1) },
      onEvent: (event) => console.log(describe(event)),
    });
  } catch (error) {
    // The server refused this node's identity or evidence, or failed this node's checks of its
    // own: say so plainly, no stack trace.
    if (error instanceof PeerAttestationError) console.error(`sepal client: ${error.message}`);
    else console.error(`sepal client: refused by ${server}: ${(error as Error).message}`);
    return 1;
  }
  return 0;
}
