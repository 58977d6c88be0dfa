// The default trust anchor: Intel SGX Root CA (production), the root of every PCK and
// TCB-signing chain. Pinning its exact bytes is what makes a quote Intel-rooted.
import { toHex } from './bytes.js';
import { sha256 } from './crypto.js';
import { type FormatErrorFactory, quoteFormatError } from './errors.js';
import { type Certificate, parseCertificate, pemCertificates } from './x509.js';

/** SHA-256 of the DER certificate; checked when the anchor is first loaded. */
export const INTEL_SGX_ROOT_CA_SHA256 =
  '44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3';

// Valid 2018-05-21 .. 2049-12-31; same bytes as test/vectors/tee/intel/intel_sgx_root_ca.der.
const INTEL_SGX_ROOT_CA_PEM = `
-----BEGIN CERTIFICATE-----
MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw
aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv
cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ
BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG
A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0
aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT
AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7
1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB
uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ
MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50
ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV
Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI
KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg
AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=
-----END CERTIFICATE-----`;

let intelRoot: Certificate | undefined;

export function intelSgxRootCa(): Certificate {
  if (intelRoot === undefined) {
    const anchor = trustAnchorFrom(
      new TextEncoder().encode(INTEL_SGX_ROOT_CA_PEM),
      quoteFormatError,
    );
    if (toHex(sha256(anchor.der)) !== INTEL_SGX_ROOT_CA_SHA256) {
      throw new Error('embedded Intel SGX Root CA does not match its fingerprint');
    }
    intelRoot = anchor;
  }
  return intelRoot;
}

/** A trust anchor from a DER certificate or PEM text holding exactly one certificate. */
export function trustAnchorFrom(bytes: Uint8Array, fail: FormatErrorFactory): Certificate {
  const text = new TextDecoder().decode(bytes);
  const ders = text.includes('-----BEGIN CERTIFICATE-----')
    ? pemCertificates(text, 'trust anchor', fail)
    : [bytes];
  const [der] = ders;
  if (der === undefined || ders.length !== 1) throw fail('trust anchor', 'exactly one certificate');
  return parseCertificate(der, 'trust anchor', fail);
}
