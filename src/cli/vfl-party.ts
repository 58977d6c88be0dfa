/**
 * `sepal vfl active` / `sepal vfl passive`: the `sepal vfl` example as two processes. The active
 * party (labels, right 14 columns) serves VerticalService; the passive party (left 14 columns)
 * connects. Each loads only its own share of the data (vfl-data.ts), aligns by PSI over the
 * network, trains its half, and reports the test accuracy the active party computes. Mutual TLS
 * with the deployment's PKI unless --attest (RA-TLS) or --insecure; --export seals the party's
 * half of the model with its own mount key, after a failure too (its last good state).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AttestationError } from '../confidential/attestation/index.js';
import { readPublicKey } from '../confidential/key-files.js';
import { verifyManifest } from '../confidential/manifest/index.js';
import { ATTEST_MODES, type AttestMode } from '../confidential/node.js';
import { describeClaims, startAttestedSide } from '../deploy/attested.js';
import { readMountKeyFile, SealedMount } from '../confidential/sealed/index.js';
import { zeroize } from '../crypto/bytes.js';
import { PeerError, VerticalInputError } from '../vertical/errors.js';
import { ActiveSession, type ActiveEvent } from '../vertical/net/active-session.js';
import type { Channel } from '../vertical/net/channel.js';
import { ActiveClient } from '../vertical/net/client.js';
import { PassiveRun, type PassiveEvent } from '../vertical/net/passive-run.js';
import type { RunPlan } from '../vertical/net/plan.js';
import { exportSealed } from '../vertical/net/sealed-export.js';
import { serveActive } from '../vertical/net/server.js';
import { startWorkerGroup, type WorkerGroup } from '../vertical/psi/worker-group.js';
import { ActiveParty } from '../vertical/split/active.js';
import { alignRows } from '../vertical/split/align.js';
import { createSplitModel } from '../vertical/split/model.js';
import { PassiveParty } from '../vertical/split/passive.js';
import { BatchSchedule } from '../vertical/split/schedule.js';
import { tf } from '../vertical/split/tf.js';
import { exampleRandom, loadExampleParty, type ExampleParty, type Role } from './vfl-data.js';
import {
  EXAMPLE_HELP,
  EXAMPLE_OPTIONS,
  exampleSettings,
  numberOption,
  type ExampleSettings,
} from './vfl-options.js';
import { ATTEST_OPTIONS, MANIFEST_OPTIONS, TLS_OPTIONS } from './party-options.js';
import { UsageError } from './usage.js';
import { verifySettings } from './attest-common.js';

const EMBEDDING = 64;

const COMMON_HELP = `Data and training (give both parties the same values):
${EXAMPLE_HELP}
  --deterministic    draw the PSI secrets and the noise from --seed too, as the one-process
                     example does, so the run replays it exactly. INSECURE: anyone who knows the
                     seed can unblind the PSI messages and remove the noise. For tests only.

Channel (mutual TLS with the deployment's PKI: \`sepal certs\`):
  --cert, --key FILE     this party's certificate and key (PEM)
  --ca FILE              the CA the peer's certificate must chain to (PEM)
  --attest MODE          ${ATTEST_MODES.join(' | ')}: attested TLS on top (as \`sepal server --attest\`):
                         each end verifies the other's evidence, and that its CA-issued key
                         endorses it, before any data moves; refused on failure
  --policy FILE          the evidence this party accepts from the peer (default: SGX/TDX, no
                         debug, no software evidence)
  --collateral PATH      Intel collateral (directory or JSON bundle) for the peer's quotes
  --manifest FILE        the signed integrity manifest, verified at start-up (needed by
  --trusted-key KEY        --attest software, whose evidence is its measurement), its signer's
  --manifest-root DIR      public key, and where its paths start (default: the current directory)
  --insecure             plaintext HTTP/2, no TLS: a trusted network or a test only

Export (each party its own half, with its own key):
  --seal-key FILE        this party's sealed-mount key (\`sepal seal keygen\`)
  --export DIR           the sealed mount to write the half into; written after a failure too,
                         with the last good state

  --max-message-mb MB    largest message either way (default 64)
  --json                 print one JSON object as the last line`;

const HELP: Record<Role, string> = {
  active: `Usage: sepal vfl active [options]

The active party of the \`sepal vfl\` example as its own process: it holds the labels and the
right 14 pixel columns of its images, serves the passive party, aligns ids with it by PSI, trains
its bottom model and the top model, and scores the test set.

  --listen HOST:PORT     address to serve on (default 127.0.0.1:7444; port 0 picks one)
  --allow-list FILE      "<name> <key>" lines: only these passive keys may open the session
                         (with --attest: the keys endorsing their RA-TLS certificates)
  --peer-timeout-ms MS   longest silence of the passive party between calls (default 600000;
                         it covers the passive party's own PSI work)
  --reconnect-ms MS      how long a passive party whose connection closed has to come back
                         (default 10000)

${COMMON_HELP}
`,
  passive: `Usage: sepal vfl passive --server URL [options]

The passive party of the \`sepal vfl\` example as its own process: it holds the left 14 pixel
columns of its images (no labels), connects to the active party, aligns ids with it by PSI and
trains its bottom model; the active party reports the test accuracy back.

  --server URL           the active party (https://host:port, or http:// with --insecure)
  --timeout-ms MS        deadline of each training step, retries included (default 30000)
  --psi-timeout-ms MS    deadline of each PSI call and of the evaluation (default 600000)

${COMMON_HELP}
`,
};

const OPTIONS = {
  ...EXAMPLE_OPTIONS,
  deterministic: { type: 'boolean' },
  listen: { type: 'string' },
  server: { type: 'string' },
  'allow-list': { type: 'string' },
  'peer-timeout-ms': { type: 'string' },
  'reconnect-ms': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'psi-timeout-ms': { type: 'string' },
  ...TLS_OPTIONS,
  ...ATTEST_OPTIONS,
  ...MANIFEST_OPTIONS,
  insecure: { type: 'boolean' },
  'seal-key': { type: 'string' },
  export: { type: 'string' },
  'max-message-mb': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>['values'];

/** Options that belong to the other role. */
const ROLE_ONLY: Record<Role, (keyof Values)[]> = {
  active: ['listen', 'allow-list', 'peer-timeout-ms', 'reconnect-ms'],
  passive: ['server', 'timeout-ms', 'psi-timeout-ms'],
};

export interface PartyReport {
  role: Role;
  /** Active party: who opened the session (its key, or evidence type and key). */
  peer?: string;
  source: string;
  examples: number;
  ids: number;
  aligned: number | undefined;
  /** Training steps the party's final state includes. */
  steps: number;
  complete: boolean;
  testAccuracy: number | undefined;
  seconds: { psi: number | undefined; training: number | undefined; total: number };
  exported: string[];
  error?: string;
}

export async function main(role: Role, argv: string[]): Promise<number> {
  let values: Values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.log(HELP[role]);
    return 0;
  }
  const other: Role = role === 'active' ? 'passive' : 'active';
  for (const name of ROLE_ONLY[other]) {
    if (values[name] !== undefined) throw new UsageError(`--${name} is for \`sepal vfl ${other}\``);
  }
  const settings = exampleSettings(values);
  const maxMessageBytes = Math.round(
    numberOption(values['max-message-mb'], 'max-message-mb', 64, false, 0.001) * 2 ** 20,
  );
  // Everything that can refuse to start does so before any data is loaded or sent.
  let channel: Channel;
  let mount: SealedMount | undefined;
  try {
    channel = await channelFrom(values);
    mount = await exportMount(values, role);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // Not in an enclave, a manifest that does not verify, an unreadable PEM: say which, no trace.
    const { name, message } = error as Error;
    console.error(`sepal vfl ${role}: cannot start: ${name}: ${message}`);
    return 1;
  }
  const log = values.json ? () => undefined : (line: string) => console.log(line);
  if (channel.kind === 'insecure') {
    console.error(
      'warning: --insecure: no TLS; the peer is not authenticated, nothing is encrypted',
    );
  }
  const data = await loadExampleParty(role, settings);
  log(`${role}: ${data.ids.length} ids of ${data.examples} images (${data.source})`);
  const started = performance.now();
  const report = await withPsiGroup((psiGroup) => {
    const run: PartyRun = {
      values,
      settings,
      data,
      channel,
      maxMessageBytes,
      mount,
      log,
      psiGroup,
    };
    return role === 'active' ? runActive(run) : runPassive(run);
  });
  report.seconds.total = (performance.now() - started) / 1000;
  if (values.json) console.log(JSON.stringify(report));
  else {
    const accuracy = report.testAccuracy === undefined ? 'not measured' : pct(report.testAccuracy);
    log(
      `${role}: ${report.complete ? 'done' : 'FAILED'}, ${report.steps} steps, test accuracy ${accuracy}`,
    );
  }
  if (report.error !== undefined) {
    console.error(`sepal vfl ${role}: ${report.error}`);
    console.error(
      `sepal vfl ${role}: kept the last good state (${report.steps} steps)` +
        (report.exported.length > 0 ? `, exported to ${values.export}` : ''),
    );
    return 1;
  }
  return 0;
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const since = (start: number | undefined, end: number | undefined) =>
  start === undefined || end === undefined ? undefined : (end - start) / 1000;

/**
 * Times a party's alignment and training from its events, and keeps the aligned count. The PSI
 * clock starts at `started` (the passive party: when it starts calling) or, when that is not
 * given, at every 'opened' event (the active party: when a peer's session opens).
 */
class RunClock {
  #started: number | undefined;
  readonly #startsWhenOpened: boolean;
  #aligned: number | undefined;
  #finished: number | undefined;
  count: number | undefined;

  constructor(started?: number) {
    this.#started = started;
    this.#startsWhenOpened = started === undefined;
  }

  note(event: { readonly type: string; readonly count?: number }): void {
    if (event.type === 'opened' && this.#startsWhenOpened) this.#started = performance.now();
    if (event.type === 'aligned') {
      this.#aligned = performance.now();
      this.count = event.count;
    }
    if (event.type === 'finished') this.#finished = performance.now();
  }

  get seconds(): PartyReport['seconds'] {
    return {
      psi: since(this.#started, this.#aligned),
      training: since(this.#aligned, this.#finished),
      total: 0, // the whole process's time, set by the caller once the run has returned
    };
  }
}

/** The report both parties print: what `run` reached, and why it stopped if it failed. */
function partyReport(
  role: Role,
  data: PartyRun['data'],
  clock: RunClock,
  run: {
    peer?: string;
    steps: number;
    accuracy: number | undefined;
    exported: string[];
    error?: Error;
  },
): PartyReport {
  return {
    role,
    ...(run.peer !== undefined && { peer: run.peer }),
    source: data.source,
    examples: data.examples,
    ids: data.ids.length,
    aligned: clock.count,
    steps: run.steps,
    complete: run.error === undefined,
    testAccuracy: run.accuracy,
    seconds: clock.seconds,
    exported: run.exported,
    ...(run.error && { error: run.error.message }),
  };
}

/** The models both parties start from: the one-process example's, from the same seed. */
function splitModel(data: ExampleParty, settings: ExampleSettings) {
  const arch = {
    passiveInputs: data.pixels,
    activeInputs: data.pixels,
    embedding: EMBEDDING,
    hidden: EMBEDDING,
    classes: data.classes,
  };
  return createSplitModel(arch, settings.seed);
}

function planOf(settings: ExampleSettings): RunPlan {
  return {
    batchSize: settings.batchSize,
    epochs: settings.epochs,
    scheduleSeed: String(settings.seed),
    embeddingWidth: EMBEDDING,
  };
}

const scheduleFor = (count: number, settings: ExampleSettings) =>
  new BatchSchedule({
    count,
    batchSize: settings.batchSize,
    epochs: settings.epochs,
    seed: settings.seed,
  });

/** The seeded sources --deterministic asks for (the one-process example's labels). */
function replay(values: Values, settings: ExampleSettings, role: Role) {
  if (!values.deterministic) return {};
  return {
    psi: exampleRandom(settings.seed, `psi-${role}`),
    noise: exampleRandom(settings.seed, `${role}-noise`),
  };
}

type Replay = ReturnType<typeof replay>;

/** What both parties' runs start from: their ids, the plan and the PSI group. */
const runBase = (
  data: PartyRun['data'],
  settings: ExampleSettings,
  group: WorkerGroup,
  random: Replay,
) => ({
  ids: data.ids,
  plan: planOf(settings),
  psi: { group, ...(random.psi && { random: random.psi }) },
});

/** What both parties train with once `count` ids are aligned. */
function training(count: number, settings: ExampleSettings, random: Replay) {
  return {
    schedule: scheduleFor(count, settings),
    optimizer: tf.train.adam(settings.learningRate),
    noise: settings.noise,
    ...(random.noise && { random: random.noise }),
  };
}

/**
 * PSI on worker threads (every core, and the event loop stays free to answer the peer), closed
 * once the run is over.
 */
async function withPsiGroup<T>(run: (group: WorkerGroup) => Promise<T>): Promise<T> {
  const group = await startWorkerGroup();
  try {
    return await run(group);
  } finally {
    await group.close();
  }
}

/** What either party's run is given. */
interface PartyRun {
  readonly values: Values;
  readonly settings: ExampleSettings;
  readonly data: ExampleParty;
  readonly channel: Channel;
  readonly maxMessageBytes: number;
  readonly mount: SealedMount | undefined;
  readonly log: (line: string) => void;
  readonly psiGroup: WorkerGroup;
}

async function runActive({
  values,
  settings,
  data,
  channel,
  maxMessageBytes,
  mount,
  log,
  psiGroup,
}: PartyRun): Promise<PartyReport> {
  const model = splitModel(data, settings);
  model.passiveBottom.dispose(); // the passive party's: only its initial weights were shared
  const random = replay(values, settings, 'active');
  const clock = new RunClock();
  let peer: string | undefined;
  const session = new ActiveSession({
    ...runBase(data, settings, psiGroup, random),
    align: (result) => {
      const rows = alignRows('active', data.ids, data.features, result.ids);
      const trained = training(result.ids.length, settings, random);
      const party = new ActiveParty({
        name: 'active',
        peer: 'passive',
        features: rows.features,
        labels: rows.rows.map((row) => (data.labels as number[])[row] as number),
        classes: data.classes,
        bottom: model.activeBottom,
        top: model.top,
        ...trained,
      });
      return { party, steps: trained.schedule.steps };
    },
    evaluation: { features: data.test.features, labels: data.test.labels as ArrayLike<number> },
    peerTimeoutMs: numberOption(values['peer-timeout-ms'], 'peer-timeout-ms', 600_000, true, 1),
    reconnectMs: numberOption(values['reconnect-ms'], 'reconnect-ms', 10_000, true, 1),
    onEvent: (event) => {
      clock.note(event);
      if (event.type === 'opened') peer = event.peer;
      const line = describeActive(event);
      if (line !== undefined) log(line);
    },
  });
  const serving = await serveActive({
    ...parseListen(values.listen ?? '127.0.0.1:7444'),
    channel,
    session,
    maxMessageBytes,
    onRefused: (error) => console.error(`active: refused a connection: ${error.message}`),
    onInternalError: (error, method) =>
      console.error(`active: internal error in ${method}:`, error),
  });
  // Printed even with --json: a caller that asked for port 0 learns the port here.
  console.log(`active: listening on ${serving.url}`);
  const interrupt = () => session.abort(new Error('active: interrupted'));
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  let outcome;
  let error: Error | undefined;
  try {
    outcome = await session.done;
  } catch (failure) {
    error = failure as Error;
  } finally {
    process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
    await serving.close();
  }
  const party = session.party;
  const steps = party?.committedSteps ?? 0;
  const exported =
    mount && party
      ? await sealHalf(
          mount,
          { 'active-bottom': party.bottom, top: party.top },
          'active',
          steps,
          !error,
        )
      : [];
  return partyReport('active', data, clock, {
    ...(peer !== undefined && { peer }),
    steps,
    accuracy: outcome?.accuracy,
    exported,
    ...(error && { error }),
  });
}

async function runPassive({
  values,
  settings,
  data,
  channel,
  maxMessageBytes,
  mount,
  log,
  psiGroup,
}: PartyRun): Promise<PartyReport> {
  if (values.server === undefined) throw new UsageError('--server is required');
  const model = splitModel(data, settings);
  model.activeBottom.dispose(); // the active party's: only the initial weights were shared
  model.top.dispose();
  const random = replay(values, settings, 'passive');
  const client = new ActiveClient(values.server, channel, { maxMessageBytes });
  const clock = new RunClock(performance.now());
  const run = new PassiveRun({
    client,
    ...runBase(data, settings, psiGroup, random),
    align: (result) => {
      const trained = training(result.ids.length, settings, random);
      const party = new PassiveParty({
        name: 'passive',
        peer: 'active',
        features: alignRows('passive', data.ids, data.features, result.ids).features,
        bottom: model.passiveBottom,
        ...trained,
      });
      return { party, steps: trained.schedule.steps };
    },
    evaluation: data.test.features,
    timeoutMs: numberOption(values['timeout-ms'], 'timeout-ms', 30_000, true, 1),
    psiTimeoutMs: numberOption(values['psi-timeout-ms'], 'psi-timeout-ms', 600_000, true, 1),
    onEvent: (event) => {
      clock.note(event);
      const line = describePassive(event);
      if (line !== undefined) log(line);
    },
  });
  let outcome;
  let error: Error | undefined;
  try {
    outcome = await run.run();
  } catch (failure) {
    if (!(failure instanceof PeerError || failure instanceof VerticalInputError)) {
      // Attestation and transport errors: the message says what was refused.
      error = new Error(`passive: ${(failure as Error).name}: ${(failure as Error).message}`);
    } else error = failure;
  }
  const exported =
    mount && run.party
      ? await sealHalf(mount, { 'passive-bottom': run.party.bottom }, 'passive', run.steps, !error)
      : [];
  return partyReport('passive', data, clock, {
    steps: run.steps,
    accuracy: outcome?.accuracy,
    exported,
    ...(error && { error }),
  });
}

async function sealHalf(
  mount: SealedMount,
  models: Record<string, tf.LayersModel>,
  party: Role,
  steps: number,
  complete: boolean,
): Promise<string[]> {
  try {
    return await exportSealed(mount, models, { party, steps, complete });
  } finally {
    mount.close();
  }
}

function describeActive(event: ActiveEvent): string | undefined {
  switch (event.type) {
    case 'opened':
      return `active: session opened by ${event.peer}`;
    case 'aligned':
      return `active: PSI aligned ${event.count} ids`;
    case 'step':
      return undefined;
    case 'evaluated':
      return `active: test accuracy ${pct(event.accuracy)}`;
    case 'disconnected':
      return `active: ${event.peer} disconnected; waiting for it to reconnect`;
    case 'finished':
      return `active: training finished after ${event.steps} steps`;
  }
}

function describePassive(event: PassiveEvent): string | undefined {
  switch (event.type) {
    case 'opened':
      return 'passive: session opened';
    case 'aligned':
      return `passive: PSI aligned ${event.count} ids (the active party holds ${event.peerCount})`;
    case 'step':
      return (event.step + 1) % 50 === 0 || event.step + 1 === event.steps
        ? `passive: step ${event.step + 1}/${event.steps}`
        : undefined;
    case 'evaluated':
      return `passive: test accuracy ${pct(event.accuracy)} (scored by the active party)`;
    case 'finished':
      return `passive: training finished after ${event.steps} steps`;
  }
}

function parseListen(raw: string): { host: string; port: number } {
  const at = raw.lastIndexOf(':');
  const port = Number(raw.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--listen must be HOST:PORT, got ${raw}`);
  }
  return { host: raw.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port };
}

function readFile(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`--${flag}: cannot read ${path}: ${(error as Error).message}`);
  }
}

/** The channel the flags ask for; refuses contradictory or partial choices. */
async function channelFrom(values: Values): Promise<Channel> {
  const pki = (['cert', 'key', 'ca'] as const).filter((name) => values[name] !== undefined);
  const attest = values.attest;
  if (values.insecure && (pki.length > 0 || attest !== undefined)) {
    throw new UsageError('--insecure excludes --cert/--key/--ca and --attest');
  }
  if (attest === undefined) {
    for (const name of [
      'policy',
      'collateral',
      'manifest',
      'trusted-key',
      'manifest-root',
    ] as const) {
      if (values[name] !== undefined) throw new UsageError(`--${name} needs --attest`);
    }
  }
  if (values.insecure) return { kind: 'insecure' };
  if (pki.length === 0) {
    throw new UsageError(
      'TLS is required: give --cert, --key and --ca (see `sepal certs`), with --attest for ' +
        'attested TLS; --insecure runs without TLS',
    );
  }
  if (pki.length < 3) throw new UsageError('TLS needs all of --cert, --key and --ca');
  const files = {
    cert: readFile(values.cert as string, 'cert'),
    key: readFile(values.key as string, 'key'),
    ca: readFile(values.ca as string, 'ca'),
  };
  const allowList = values['allow-list'];
  if (attest === undefined) {
    return { kind: 'mtls', ...files, ...(allowList !== undefined && { allowList }) };
  }
  if (!(ATTEST_MODES as readonly string[]).includes(attest)) {
    throw new UsageError(`--attest must be one of ${ATTEST_MODES.join(', ')}, got ${attest}`);
  }
  // A malformed policy or collateral is the caller's mistake: a usage error naming it.
  let settings;
  try {
    settings = verifySettings({ policy: values.policy, collateral: values.collateral });
  } catch (error) {
    if (error instanceof AttestationError) throw new UsageError(error.message);
    throw error;
  }
  if (attest === 'software' && values.manifest === undefined) {
    throw new UsageError(
      '--attest software needs --manifest: its evidence is the manifest measurement',
    );
  }
  const manifest =
    values.manifest === undefined
      ? undefined
      : await verifyManifest(
          values.manifest,
          readPublicKey(requireFlag(values['trusted-key'], 'trusted-key')),
          values['manifest-root'] ?? '.',
        );
  const side = await startAttestedSide({
    attest: attest as AttestMode,
    policy: settings.policy,
    ...(settings.collateral && { collateral: settings.collateral }),
    identity: { cert: files.cert.toString('utf8'), key: files.key.toString('utf8') },
    ca: files.ca.toString('utf8'),
    ...(manifest && { manifest }),
  });
  return {
    kind: 'attested',
    side,
    ...(allowList !== undefined && { allowList }),
    onAttestation: (event) => {
      // Refusals are reported by the server's onRefused.
      if (event.type === 'peer-attested') {
        console.error(`active: ${event.peer} attested: ${describeClaims(event.claims)}`);
      }
    },
  };
}

function requireFlag(value: string | undefined, name: string): string {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

/** The sealed mount for --export, opened (and its key checked) before anything runs. */
async function exportMount(values: Values, role: Role): Promise<SealedMount | undefined> {
  const [key, dir] = [values['seal-key'], values.export];
  if (key === undefined && dir === undefined) return undefined;
  if (key === undefined || dir === undefined) {
    throw new UsageError('--export and --seal-key go together');
  }
  let material: Uint8Array;
  try {
    material = await readMountKeyFile(key);
  } catch (error) {
    throw new UsageError(`--seal-key: ${(error as Error).message}`);
  }
  try {
    // The label separates the two halves even if someone gave both parties one key.
    return new SealedMount(dir, material, { label: `sepal-vfl-${role}` });
  } finally {
    zeroize(material);
  }
}
