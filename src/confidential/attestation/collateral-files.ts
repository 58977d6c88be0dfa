// Loads collateral from disk (Node only): either a dcap-qvl style JSON bundle file or a
// directory in the layout below. Each file in the directory is optional.
//
//   tcbinfo.json          PCS TCB Info response body {"tcbInfo":{...},"signature":"..."}, as served
//   qeidentity.json       PCS QE Identity response body {"enclaveIdentity":{...},"signature":"..."}
//   tcb-signing-chain.pem issuer chain of both (PCS TCB-Info-Issuer-Chain header, URL-decoded)
//   root-ca.crl           Intel SGX Root CA CRL (DER, PEM or hex)
//   pck.crl               CRL of the PCK Platform/Processor CA that issued the quote's PCK (DER, PEM or hex)
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex } from './bytes.js';
import {
  type Collateral,
  certificatesFromPem,
  collateralFromBundle,
  signedJsonFromResponse,
} from './collateral.js';
import { CollateralError } from './errors.js';

export const COLLATERAL_FILES = {
  tcbInfo: 'tcbinfo.json',
  qeIdentity: 'qeidentity.json',
  signingChain: 'tcb-signing-chain.pem',
  rootCaCrl: 'root-ca.crl',
  pckCrl: 'pck.crl',
} as const;

export function loadCollateral(path: string): Collateral {
  if (!existsSync(path)) throw new CollateralError(path, 'no such file or directory');
  if (!statSync(path).isDirectory()) return collateralFromBundle(readFileSync(path, 'utf8'));
  const file = (name: string): string | undefined => {
    const full = join(path, name);
    return existsSync(full) ? full : undefined;
  };
  const tcbInfo = file(COLLATERAL_FILES.tcbInfo);
  const qeIdentity = file(COLLATERAL_FILES.qeIdentity);
  const chainFile = file(COLLATERAL_FILES.signingChain);
  const rootCaCrl = file(COLLATERAL_FILES.rootCaCrl);
  const pckCrl = file(COLLATERAL_FILES.pckCrl);
  const chain = (): Uint8Array[] => {
    if (chainFile === undefined) {
      throw new CollateralError(
        join(path, COLLATERAL_FILES.signingChain),
        'needed to check TCB Info / QE Identity, but missing',
      );
    }
    return certificatesFromPem(readFileSync(chainFile, 'utf8'), chainFile);
  };
  return {
    ...(tcbInfo && {
      tcbInfo: signedJsonFromResponse(readFileSync(tcbInfo, 'utf8'), 'tcbInfo', chain()),
    }),
    ...(qeIdentity && {
      qeIdentity: signedJsonFromResponse(
        readFileSync(qeIdentity, 'utf8'),
        'enclaveIdentity',
        chain(),
      ),
    }),
    ...(rootCaCrl && { rootCaCrl: crlBytes(rootCaCrl) }),
    ...(pckCrl && { pckCrl: crlBytes(pckCrl) }),
  };
}

/** A CRL file's DER bytes, whether it holds DER, PEM ("X509 CRL") or hex text. */
function crlBytes(file: string): Uint8Array {
  const bytes = new Uint8Array(readFileSync(file));
  if (bytes[0] === 0x30) return bytes;
  const text = new TextDecoder().decode(bytes).trim();
  const pem = /-----BEGIN X509 CRL-----([^-]*)-----END X509 CRL-----/.exec(text);
  if (pem) return new Uint8Array(Buffer.from((pem[1] ?? '').replace(/\s+/g, ''), 'base64'));
  const hex = fromHex(text);
  if (hex === undefined) throw new CollateralError(file, 'expected a DER, PEM or hex CRL');
  return hex;
}
