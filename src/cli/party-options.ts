/**
 * The parseArgs option tables that `sepal server`, `sepal client` and `sepal vfl active|passive`
 * share. Kept apart from client-server-flags.ts, which loads the federated job (and with it
 * TensorFlow.js's wasm backend): a command that only needs the flag names must not load that.
 */

/** A party's TLS material: its certificate and key, and the CA its peers must chain to. */
export const TLS_OPTIONS = {
  cert: { type: 'string' },
  key: { type: 'string' },
  ca: { type: 'string' },
} as const;

/** The integrity flags (the help lines are client-server-flags.ts's MANIFEST_HELP). */
export const MANIFEST_OPTIONS = {
  manifest: { type: 'string' },
  'trusted-key': { type: 'string' },
  'manifest-root': { type: 'string' },
} as const;

/** The attestation flags (the help lines are client-server-flags.ts's ATTEST_HELP). */
export const ATTEST_OPTIONS = {
  attest: { type: 'string' },
  policy: { type: 'string' },
  collateral: { type: 'string' },
} as const;
