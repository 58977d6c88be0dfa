// Loads the real quotes and collateral under test/vectors/tee (see its README for provenance).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type Collateral,
  certificatesFromPem,
  collateralFromBundle,
  signedJsonFromResponse,
} from '../../src/confidential/attestation/index.js';

const root = fileURLToPath(new URL('../vectors/tee/', import.meta.url));

export const vectorPath = (name: string): string => root + name;
export const bytes = (name: string): Uint8Array => new Uint8Array(readFileSync(root + name));
export const text = (name: string): string => readFileSync(root + name, 'utf8');

/** TCB Signing certificate valid 2018-05-21..2025-05-21, and its 2025-05-06..2032-05-06 renewal. */
const chain2018 = certificatesFromPem(text('intel/tcb_signing_chain_2018-2025.pem'), 'chain');
const chain2025 = certificatesFromPem(text('intel/tcb_signing_chain_2025-2032.pem'), 'chain');

export const tcbInfo = (name: string, renewedSigner = false) =>
  signedJsonFromResponse(text(name), 'tcbInfo', renewedSigner ? chain2025 : chain2018);
export const qeIdentity = (name: string) =>
  signedJsonFromResponse(text(name), 'enclaveIdentity', chain2018);

export interface QuoteVector {
  readonly file: string;
  readonly type: 'sgx' | 'tdx';
  readonly version: number;
  /** MRENCLAVE (SGX) or MRTD (TDX), from the vector README. */
  readonly measurement: string;
  readonly debug: boolean;
  readonly fmspc: string;
  readonly trailingBytes: number;
  /** A time inside every validity window the case involves. */
  readonly at: string;
  readonly collateral?: () => Collateral;
  /** TCB status per the vector README's independent cross-check (when collateral matches). */
  readonly tcbStatus?: string;
  readonly tcbDate?: string;
}

const dcapRsTdx = (): Collateral => ({
  tcbInfo: tcbInfo('tdx/dcap-rs/tcbinfov3_00806f050000.json'),
  qeIdentity: qeIdentity('tdx/dcap-rs/qeidentityv2_apiv4.json'),
  pckCrl: bytes('tdx/dcap-rs/pck_platform_crl.der'),
  rootCaCrl: bytes('tdx/dcap-rs/intel_root_ca_crl.der'),
});

export const QUOTES: readonly QuoteVector[] = [
  {
    file: 'sgx/phala/sgx_quote_v3.bin',
    type: 'sgx',
    version: 3,
    measurement: '33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb',
    debug: false,
    fmspc: '00a067110000',
    trailingBytes: 0,
    at: '2025-06-20T00:00:00Z',
    collateral: () => collateralFromBundle(text('sgx/phala/sgx_quote_collateral.json')),
    tcbStatus: 'ConfigurationAndSWHardeningNeeded',
    tcbDate: '2024-03-13T00:00:00Z',
  },
  {
    file: 'sgx/mobilecoin/hw_quote_v3.dat',
    type: 'sgx',
    version: 3,
    measurement: '1dd0df84810e53e26b2b167dfe0f97cc4364085fe0bd41d5e18a759c21d5c189',
    debug: true,
    fmspc: '00906ed50000',
    trailingBytes: 0,
    at: '2025-09-29T00:00:00Z',
    collateral: () => ({ tcbInfo: tcbInfo('sgx/teekit/tcbInfo-sgx-00906ed50000.json', true) }),
    tcbStatus: 'OutOfDate',
    tcbDate: '2021-11-10T00:00:00Z',
  },
  {
    file: 'sgx/occlum/quote_v3.raw',
    type: 'sgx',
    version: 3,
    measurement: '9c90fd81f6e9fe64b46b14f0623523a52d6a5678482988c408f6adffe6301e2c',
    debug: false,
    fmspc: '30606a000000',
    trailingBytes: 0,
    at: '2025-09-29T00:00:00Z',
    collateral: () => ({ tcbInfo: tcbInfo('sgx/teekit/tcbInfo-sgx-30606a000000.min.json', true) }),
    tcbStatus: 'OutOfDate',
    tcbDate: '2021-11-10T00:00:00Z',
  },
  {
    file: 'sgx/teekit/sgx-chinenyeokafor.dat',
    type: 'sgx',
    version: 3,
    measurement: '0696ab235b2d339e68a4303cb64cde005bb8cdf2448bed742ac8ea8339bd0cb7',
    debug: false,
    fmspc: '90c06f000000',
    trailingBytes: 0,
    at: '2025-09-29T00:00:00Z',
    collateral: () => ({ tcbInfo: tcbInfo('sgx/teekit/tcbInfo-sgx-90c06f000000.min.json', true) }),
    tcbStatus: 'UpToDate',
    tcbDate: '2024-03-13T00:00:00Z',
  },
  {
    // Its PCK was issued 2025-11, after the only matching TCB Info (2025-02) expired.
    file: 'sgx/gramine/gramine_ratls_legacy_quote_v3.bin',
    type: 'sgx',
    version: 3,
    measurement: '6364c9c486ebe6d3b3ec6e22ec0b4ee4cec428450a055c4ebee36d6e9b8660a8',
    debug: true,
    fmspc: '00606a000000',
    trailingBytes: 0,
    at: '2026-01-01T00:00:00Z',
  },
  {
    file: 'tdx/phala/tdx_quote_v4.bin',
    type: 'tdx',
    version: 4,
    measurement:
      '91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7',
    debug: false,
    fmspc: 'b0c06f000000',
    trailingBytes: 70,
    at: '2025-06-20T00:00:00Z',
    collateral: () => collateralFromBundle(text('tdx/phala/tdx_quote_collateral.json')),
    tcbStatus: 'UpToDate',
    tcbDate: '2024-03-13T00:00:00Z',
  },
  {
    file: 'tdx/go-tdx-guest/cos-113-tdx-quote.dat',
    type: 'tdx',
    version: 4,
    measurement:
      'dae67181d3d65e073ad8f95b7907d5e927bfe9761c9ff3e9b89734a45d8954dba41394c7717cb2735396c1d04231f94a',
    debug: false,
    fmspc: '00806f050000',
    trailingBytes: 8000 - 4935,
    at: '2025-02-14T00:00:00Z',
    collateral: dcapRsTdx,
    tcbStatus: 'UpToDate',
    tcbDate: '2024-03-13T00:00:00Z',
  },
  {
    file: 'tdx/dcap-rs/quote_tdx_00806f050000.dat',
    type: 'tdx',
    version: 4,
    measurement:
      '935be7742dd89c6a4df6dba8353d89041ae0f052beef993b1e7f4524d3bc57650df20e5582158352e1240b3f1fed55d8',
    debug: false,
    fmspc: '00806f050000',
    trailingBytes: 8000 - 4935,
    at: '2025-02-14T00:00:00Z',
    collateral: dcapRsTdx,
    tcbStatus: 'OutOfDate',
    tcbDate: '2023-08-09T00:00:00Z',
  },
  {
    // Its TCB is below every level of the matching TCB Info: checked in tcb.test.ts.
    file: 'tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat',
    type: 'tdx',
    version: 4,
    measurement:
      '6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb',
    debug: false,
    fmspc: '50806f000000',
    trailingBytes: 39,
    at: '2023-06-20T00:00:00Z',
  },
  {
    file: 'tdx/go-tdx-guest/quote_v5_sample.dat',
    type: 'tdx',
    version: 5,
    measurement:
      '7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876',
    debug: false,
    fmspc: '90c06f000000',
    trailingBytes: 0,
    at: '2026-02-02T00:00:00Z',
    collateral: () => ({
      tcbInfo: tcbInfo('tdx/go-tdx-guest/sample_tcbinfo_response_v5.json', true),
    }),
    tcbStatus: 'UpToDate',
    tcbDate: '2024-11-13T00:00:00Z',
  },
  {
    // Below every level of its bundled TCB Info: checked in tcb.test.ts.
    file: 'tdx/phala/tdx_quote_v5_outdated.bin',
    type: 'tdx',
    version: 5,
    measurement:
      '273828c46252fcbdd8ad2dd907130222b03466d52a2911d70c1a5950895d6bd1ae451d382d5a9b1b4c0ed0e5ae9a3dbd',
    debug: false,
    fmspc: '90c06f000000',
    trailingBytes: 0,
    at: '2026-02-19T00:00:00Z',
  },
];

export function quoteVector(file: string): QuoteVector {
  const found = QUOTES.find((vector) => vector.file === file);
  if (found === undefined) throw new Error(`no vector ${file}`);
  return found;
}
