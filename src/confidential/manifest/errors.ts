// Every manifest failure is a ManifestError; the subclass says whether the document itself, its
// signature or the files on disk were refused.

export class ManifestError extends Error {
  override name = 'ManifestError';
}

/** The manifest document is malformed: `field` names the offending member. */
export class ManifestFormatError extends ManifestError {
  override name = 'ManifestFormatError';
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`manifest ${field}: ${detail}`);
  }
}

/** The manifest is unsigned, signed by another key, or its signature does not verify. */
export class ManifestSignatureError extends ManifestError {
  override name = 'ManifestSignatureError';
}

export type MismatchKind = 'missing' | 'modified' | 'extra' | 'not-a-regular-file';

export interface Mismatch {
  /** Path relative to the root, '/'-separated. */
  readonly path: string;
  readonly kind: MismatchKind;
  readonly detail: string;
}

/** Files on disk differ from a correctly signed manifest; every difference is listed. */
export class ManifestMismatchError extends ManifestError {
  override name = 'ManifestMismatchError';
  constructor(readonly mismatches: readonly Mismatch[]) {
    const shown = mismatches.slice(0, 10).map((m) => `  ${m.kind}: ${m.path} (${m.detail})`);
    const more = mismatches.length > 10 ? [`  … and ${mismatches.length - 10} more`] : [];
    super(
      [`${mismatches.length} file(s) differ from the signed manifest:`, ...shown, ...more].join(
        '\n',
      ),
    );
  }
}
