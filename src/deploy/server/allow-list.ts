/**
 * The allow-list: the nodes the server accepts, one per line as `<name> <key>`, where key is the
 * node's Ed25519 public key in base64url (src/deploy/identity.ts). `#` starts a comment.
 *
 * The file is read again when its modification time changes (checked at most once per
 * `recheckMs`), so a key is revoked by deleting its line: the node's session ends at its next
 * request and it cannot register again.
 */
import { readFileSync, statSync } from 'node:fs';
import { DeployFileError } from '../errors.js';
import { KEY_ID_PATTERN, NODE_NAME_PATTERN } from '../identity.js';

/** Parses allow-list text: key → node name. `file` names the source in errors. */
export function parseAllowList(text: string, file: string): Map<string, string> {
  const byKey = new Map<string, string>();
  const names = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const fail = (message: string): never => {
      throw new DeployFileError(`${file}:${i + 1}`, message);
    };
    const [name, key, ...rest] = line.split(/\s+/);
    if (name === undefined || key === undefined || rest.length > 0) fail('expected "<name> <key>"');
    if (!NODE_NAME_PATTERN.test(name as string))
      fail(`node name "${name}" must match ${NODE_NAME_PATTERN}`);
    if (!KEY_ID_PATTERN.test(key as string)) fail(`key of ${name} is not a base64url Ed25519 key`);
    if (names.has(name as string)) fail(`node name ${name} appears twice`);
    if (byKey.has(key as string)) fail(`the key of ${name} is also ${byKey.get(key as string)}'s`);
    names.add(name as string);
    byKey.set(key as string, name as string);
  });
  return byKey;
}

export const formatAllowListLine = (name: string, key: string): string => `${name} ${key}\n`;

export class AllowList {
  #byKey: Map<string, string>;
  #mtimeMs: number;
  #checkedAt: number;

  constructor(
    readonly file: string,
    /** Called after a reload with the keys that are no longer allowed. */
    private readonly onRevoked: (revoked: ReadonlySet<string>) => void = () => undefined,
    private readonly recheckMs = 1000,
  ) {
    this.#mtimeMs = this.#mtime();
    this.#byKey = this.#read();
    this.#checkedAt = performance.now();
  }

  /** The node name of `key`, or undefined when the key is not allowed. */
  nodeOf(key: string): string | undefined {
    this.#refresh();
    return this.#byKey.get(key);
  }

  #refresh(): void {
    const now = performance.now();
    if (now - this.#checkedAt < this.recheckMs) return;
    this.#checkedAt = now;
    const previous = this.#byKey;
    // A file caught half-written (or mid-rename) fails: keep the previous list, retry next time.
    try {
      const mtime = this.#mtime();
      if (mtime === this.#mtimeMs) return;
      this.#byKey = this.#read();
      this.#mtimeMs = mtime;
    } catch {
      return;
    }
    const revoked = new Set([...previous.keys()].filter((key) => !this.#byKey.has(key)));
    if (revoked.size > 0) this.onRevoked(revoked);
  }

  #mtime(): number {
    try {
      return statSync(this.file).mtimeMs;
    } catch (error) {
      throw new DeployFileError(
        this.file,
        `cannot read the allow-list (${(error as NodeJS.ErrnoException).code})`,
      );
    }
  }

  #read(): Map<string, string> {
    return parseAllowList(readFileSync(this.file, 'utf8'), this.file);
  }
}
