// The TDX attester against a fake configfs-tsm tree that behaves like the kernel's: mkdir makes
// an entry with provider, generation, inblob and outblob; a write to inblob bumps generation; the
// outblob is a real TDX quote from the vectors, which the verifier accepts with its report data.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  parsePolicy,
  parseQuote,
  PolicyViolationError,
  Verifier,
} from '../../src/confidential/attestation/index.js';
import {
  TdxAttester,
  TsmUnavailableError,
  type TsmFileSystem,
} from '../../src/confidential/attesters/index.js';
import { createRaTlsIdentity, verifyRaTlsCertificate } from '../../src/confidential/ratls/index.js';
import { bytes, quoteVector } from './vectors.js';

const scratch = mkdtempSync(join(tmpdir(), 'sepal-tdx-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const vector = quoteVector('tdx/phala/tdx_quote_v4.bin');
const QUOTE = bytes(vector.file);
const QUOTE_REPORT_DATA = parseQuote(QUOTE).body.reportData;
const at = new Date(vector.at);

interface FakeTsm {
  readonly root: string;
  readonly files: TsmFileSystem;
  /** Entries created so far (removed ones included). */
  readonly entries: string[];
}

/**
 * A directory tree with configfs-tsm's behaviour: `provider` names the TSM, `generation` counts
 * writes, and `interfere` lets a test write to the entry behind the attester's back.
 */
function fakeTsm(provider = 'tdx_guest', interfere = false): FakeTsm {
  const root = mkdtempSync(join(scratch, 'report-'));
  const entries: string[] = [];
  const files: TsmFileSystem = {
    stat: (path) => fs.stat(path),
    async mkdir(path) {
      await fs.mkdir(path);
      entries.push(path);
      await fs.writeFile(join(path, 'provider'), `${provider}\n`);
      await fs.writeFile(join(path, 'generation'), '0\n');
      await fs.writeFile(join(path, 'outblob'), QUOTE);
    },
    async writeFile(path, data) {
      await fs.writeFile(path, data);
      const generation = join(path, '..', 'generation');
      const count = Number(await fs.readFile(generation, 'utf8'));
      await fs.writeFile(generation, `${count + 1}\n`);
    },
    async readFile(path) {
      const data = new Uint8Array(await fs.readFile(path));
      if (interfere && path.endsWith('outblob')) {
        await files.writeFile(join(path, '..', 'inblob'), new Uint8Array(64));
      }
      return data;
    },
    // configfs removes an entry's attribute files with the directory itself.
    rmdir: (path) => fs.rm(path, { recursive: true }),
  };
  return { root, files, entries };
}

describe('TDX attester (configfs-tsm)', () => {
  it('writes the report data to inblob and returns the quote, which verifies bound to it', async () => {
    const tsm = fakeTsm();
    const attester = await TdxAttester.open(tsm.root, tsm.files);
    const evidence = await attester.evidence(QUOTE_REPORT_DATA);
    assert.equal(evidence.kind, 'dcap-quote');
    assert.equal(tsm.entries.length, 1);
    // The entry is removed again.
    await assert.rejects(fs.stat(tsm.entries[0] as string), /ENOENT/);
    const policy = parsePolicy({ tdx: { mrtd: [vector.measurement] } });
    const claims = new Verifier(policy).verify(evidence, {
      at,
      expectedReportData: QUOTE_REPORT_DATA,
    });
    assert.equal(claims.type, 'tdx');
    assert.equal(claims.type === 'tdx' && claims.mrtd, vector.measurement);
    // A policy pinning another MRTD refuses it.
    const other = parsePolicy({ tdx: { mrtd: ['00'.repeat(48)] } });
    assert.throws(
      () => new Verifier(other).verify(evidence, { at }),
      (error) => error instanceof PolicyViolationError && error.rule === 'tdx.mrtd',
    );
  });

  it('refuses a quote that does not carry the requested report data', async () => {
    const tsm = fakeTsm();
    const attester = await TdxAttester.open(tsm.root, tsm.files);
    await assert.rejects(
      attester.evidence(new Uint8Array(64).fill(1)),
      /does not carry the requested report data/,
    );
    // An RA-TLS certificate needs evidence bound to its fresh key: a fixed quote cannot be.
    await assert.rejects(createRaTlsIdentity(attester), /does not carry the requested/);
  });

  it('detects a write to the entry between its write and the read of the quote', async () => {
    const tsm = fakeTsm('tdx_guest', true);
    const attester = await TdxAttester.open(tsm.root, tsm.files);
    await assert.rejects(attester.evidence(QUOTE_REPORT_DATA), /written by someone else/);
  });

  it('fails clearly without configfs-tsm, or under another TSM provider', async () => {
    await assert.rejects(
      TdxAttester.open(join(scratch, 'absent')),
      (error) =>
        error instanceof TsmUnavailableError && /configfs-tsm is not available/.test(error.message),
    );
    const sev = fakeTsm('sev_guest');
    const attester = await TdxAttester.open(sev.root, sev.files);
    await assert.rejects(
      attester.evidence(QUOTE_REPORT_DATA),
      (error) =>
        error instanceof TsmUnavailableError && /"sev_guest", not "tdx_guest"/.test(error.message),
    );
  });

  it('puts TDX quotes in RA-TLS certificates as DICE evidence only', async () => {
    // A stand-in attester answering with the real quote whatever is asked shows the layout; the
    // verifier then refuses the binding, as it must for a quote made for another key.
    const stub = {
      kind: 'tdx' as const,
      evidence: async () => ({ kind: 'dcap-quote' as const, quote: QUOTE }),
    };
    const identity = await createRaTlsIdentity(stub, {
      notBefore: new Date(at.getTime() - 60_000),
      notAfter: new Date(at.getTime() + 60_000),
    });
    assert.deepEqual(identity.evidence, ['dice']);
    assert.throws(
      () =>
        verifyRaTlsCertificate(identity.certificate, {
          at,
          policy: parsePolicy({ tdx: {} }),
        }),
      /report data/,
    );
  });
});
