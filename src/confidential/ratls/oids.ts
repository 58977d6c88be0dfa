// Object identifiers of the X.509 extensions that carry RA-TLS evidence.

/** Gramine's legacy extension: the raw SGX quote (Intel arc 1.2.840.113741.1337.6). */
export const OID_LEGACY_QUOTE = '1.2.840.113741.1337.6';

/**
 * The same extension as Gramine actually writes it. Gramine hands mbedTLS the OID's own tag and
 * length (06 09 ...) as if they were content, so the extnID is 06 0B 06 09 2A 86 48 86 F8 4D 8A
 * 39 06, which decodes to this OID. Gramine keeps it for compatibility; every Gramine
 * certificate in test/vectors/tee/ratls uses it. Verifiers accept both forms; Sepal writes this
 * one so that Gramine's and Gramine-compatible verifiers that match it exactly accept Sepal's
 * certificates too (Gramine's own verifier finds either form).
 */
export const OID_LEGACY_QUOTE_GRAMINE = '0.6.9.42.840.113741.1337.6';

/** TCG DICE conceptual message wrapper: CBOR-tagged evidence (Gramine >= 1.8, rats-tls, ...). */
export const OID_TCG_DICE_TAGGED_EVIDENCE = '2.23.133.5.4.9';

/**
 * Sepal's INSECURE software evidence (attestation/software-evidence.ts). A UUID-based OID
 * (ITU-T X.667, 2.25.<UUID as integer>) needs no registration and cannot collide with a
 * registered one. UUID cb001c92-f091-43c8-9670-0b0506d8f1eb.
 */
export const OID_SEPAL_SOFTWARE_EVIDENCE = '2.25.269833862693570568228548273569080603115';

/** CBOR tag 60000: an Intel TEE quote (SGX or TDX) in TCG DICE tagged evidence. */
export const CBOR_TAG_INTEL_TEE_QUOTE = 60000;
