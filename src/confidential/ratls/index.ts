// RA-TLS: certificates carrying evidence that commits to their key, and attested TLS channels.
export {
  bindingReportData,
  createRaTlsIdentity,
  type RaTlsCertificateOptions,
  type RaTlsIdentity,
} from './certificate.js';
export { decodeDiceEvidence, type DiceEvidence } from './dice.js';
export { RaTlsCertificateError } from './errors.js';
export {
  OID_LEGACY_QUOTE,
  OID_LEGACY_QUOTE_GRAMINE,
  OID_SEPAL_SOFTWARE_EVIDENCE,
  OID_TCG_DICE_TAGGED_EVIDENCE,
} from './oids.js';
export {
  type EvidenceSource,
  type RaTlsVerification,
  type RaTlsVerifyOptions,
  verifyRaTlsCertificate,
} from './verify.js';
export {
  attestedTlsClientOptions,
  attestedTlsServerOptions,
  connectAttested,
  createAttestedServer,
  verifyTlsPeer,
  type AttestedConnectOptions,
  type AttestedServerEvents,
  type AttestedTlsOptions,
} from './tls.js';
