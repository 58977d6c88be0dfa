// Evidence from inside an Intel TDX guest, through Linux's configfs-tsm interface (kernel >= 6.7,
// Documentation/ABI/testing/configfs-tsm): make a report entry with mkdir under
// /sys/kernel/config/tsm/report, write the 64 bytes of report data to its inblob, read the TDX
// quote from its outblob, and remove the entry with rmdir. Each entry is private to one request
// (a random name), and its `generation` counter, which the kernel bumps on every write, shows
// whether anyone else wrote to it between our write and our read.
//
// The root directory and the file operations are parameters so that tests can serve a real
// quote from a fake tree; configfs needs rmdir (not recursive removal) for an entry.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { bytesEqual } from '../attestation/bytes.js';
import { type Evidence, parseQuote } from '../attestation/index.js';
import { type Attester, checkReportDataLength } from './attester.js';

export const TSM_REPORT_DIR = '/sys/kernel/config/tsm/report';
/** What configfs-tsm's `provider` attribute reads in a TDX guest. */
const TDX_PROVIDER = 'tdx_guest';

/** Not inside a TDX guest whose kernel offers configfs-tsm, or the entry could not be used. */
export class TsmUnavailableError extends Error {
  override name = 'TsmUnavailableError';
}

/** The file operations the attester uses (node:fs/promises by default). */
export interface TsmFileSystem {
  mkdir(path: string): Promise<unknown>;
  rmdir(path: string): Promise<unknown>;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array): Promise<unknown>;
  stat(path: string): Promise<{ isDirectory(): boolean }>;
}

const nodeFs: TsmFileSystem = {
  mkdir: (path) => fs.mkdir(path),
  rmdir: (path) => fs.rmdir(path),
  readFile: async (path) => new Uint8Array(await fs.readFile(path)),
  writeFile: (path, data) => fs.writeFile(path, data),
  stat: (path) => fs.stat(path),
};

export class TdxAttester implements Attester {
  readonly kind = 'tdx';

  private constructor(
    private readonly root: string,
    private readonly files: TsmFileSystem,
  ) {}

  /** Checks that `root` is a configfs-tsm report directory. */
  static async open(
    root: string = TSM_REPORT_DIR,
    files: TsmFileSystem = nodeFs,
  ): Promise<TdxAttester> {
    let isDirectory = false;
    try {
      isDirectory = (await files.stat(root)).isDirectory();
    } catch {
      // handled below
    }
    if (!isDirectory) {
      throw new TsmUnavailableError(
        `configfs-tsm is not available: ${root} is not a directory (it needs an Intel TDX guest ` +
          'with Linux >= 6.7 built with CONFIG_TSM_REPORTS and configfs mounted at /sys/kernel/config)',
      );
    }
    return new TdxAttester(root, files);
  }

  async evidence(reportData: Uint8Array): Promise<Evidence> {
    checkReportDataLength(reportData);
    const entry = join(this.root, `sepal-${randomBytes(8).toString('hex')}`);
    try {
      await this.files.mkdir(entry);
    } catch (error) {
      throw new TsmUnavailableError(
        `cannot create the configfs-tsm report entry ${entry}: ${(error as Error).message}`,
      );
    }
    try {
      return { kind: 'dcap-quote', quote: await this.#quote(entry, reportData) };
    } finally {
      await this.files.rmdir(entry).catch(() => undefined);
    }
  }

  async #quote(entry: string, reportData: Uint8Array): Promise<Uint8Array> {
    const text = async (name: string) =>
      new TextDecoder().decode(await this.files.readFile(join(entry, name))).trim();
    const provider = await text('provider');
    if (provider !== TDX_PROVIDER) {
      throw new TsmUnavailableError(
        `configfs-tsm provider is "${provider}", not "${TDX_PROVIDER}": this is not a TDX guest`,
      );
    }
    await this.files.writeFile(join(entry, 'inblob'), reportData);
    const before = await text('generation');
    const quote = await this.files.readFile(join(entry, 'outblob'));
    const after = await text('generation');
    if (before !== after) {
      throw new Error(
        `configfs-tsm entry ${entry} was written by someone else while the quote was read`,
      );
    }
    // As with Gramine: a quote that does not carry our report data must never be handed out.
    if (!bytesEqual(parseQuote(quote).body.reportData, reportData)) {
      throw new Error('the TDX quote from configfs-tsm does not carry the requested report data');
    }
    return quote;
  }
}
