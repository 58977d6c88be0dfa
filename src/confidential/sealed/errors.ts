/**
 * A sealed file could not be opened. Nothing of its content is ever returned with this error:
 * `reason` says which check refused it.
 */
export class SealedFileError extends Error {
  override name = 'SealedFileError';
  constructor(
    /** The file's path relative to its mount. */
    readonly path: string,
    readonly reason: 'unreadable' | 'format' | 'wrong-key' | 'tampered' | 'truncated' | 'extended',
    detail: string,
  ) {
    super(`sealed file ${path}: ${detail}`);
  }
}
