/**
 * `writeReport`: render a report and write it atomically. The file is written beside its final
 * name and renamed over it, so a reader (a browser reloading, a CI artifact upload) sees the old
 * report or the new one, never half of one. Node-only; render.ts stays isomorphic.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { renderReport, type ReportInput } from './render.js';

export async function writeReport(path: string, input: ReportInput): Promise<void> {
  const html = renderReport(input);
  const directory = dirname(path);
  await mkdir(directory, { recursive: true });
  // Same directory, so the rename stays on one file system and is atomic.
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, html, { encoding: 'utf8', flush: true });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
