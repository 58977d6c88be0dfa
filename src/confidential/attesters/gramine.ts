// Evidence from inside a Gramine SGX enclave. Gramine's pseudo-filesystem /dev/attestation turns
// a write of 64 bytes to user_report_data followed by a read of quote into an SGX DCAP quote
// whose report data is those bytes. The directory is a parameter so tests can supply a fake one.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesEqual } from '../attestation/bytes.js';
import { type Evidence, parseQuote } from '../attestation/index.js';
import { type Attester, checkReportDataLength } from './attester.js';

export const GRAMINE_ATTESTATION_DIR = '/dev/attestation';

/** Not inside a Gramine SGX enclave, or one without DCAP remote attestation enabled. */
export class NotInEnclaveError extends Error {
  override name = 'NotInEnclaveError';
}

export class GramineAttester implements Attester {
  readonly kind = 'gramine-sgx';
  /** Writes and reads of the two files must not interleave: each quote is taken in turn. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly dir: string) {}

  /** Checks that `dir` is a Gramine attestation interface with DCAP attestation enabled. */
  static async open(dir: string = GRAMINE_ATTESTATION_DIR): Promise<GramineAttester> {
    let type: string;
    try {
      type = (await readFile(join(dir, 'attestation_type'), 'utf8')).trim();
    } catch {
      throw new NotInEnclaveError(
        `not inside a Gramine SGX enclave: ${join(dir, 'attestation_type')} cannot be read`,
      );
    }
    if (type !== 'dcap') {
      throw new NotInEnclaveError(
        `Gramine attestation type is "${type}", not "dcap": set sgx.remote_attestation = "dcap" in the Gramine manifest`,
      );
    }
    return new GramineAttester(dir);
  }

  async evidence(reportData: Uint8Array): Promise<Evidence> {
    checkReportDataLength(reportData);
    const next = this.#queue.then(() => this.#quote(reportData));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #quote(reportData: Uint8Array): Promise<Evidence> {
    await writeFile(join(this.dir, 'user_report_data'), reportData);
    const quote = new Uint8Array(await readFile(join(this.dir, 'quote')));
    // Another thread of the enclave may have written user_report_data in between; a quote that
    // does not carry our report data must never be handed out as ours.
    if (!bytesEqual(parseQuote(quote).body.reportData, reportData)) {
      throw new Error('the quote from Gramine does not carry the requested report data');
    }
    return { kind: 'dcap-quote', quote };
  }
}
