/**
 * Reads a job config from a file: JSON, or a JavaScript/TypeScript module whose default export is
 * the config (TypeScript modules need a TypeScript-aware loader such as tsx). Errors name the file.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ParameterError } from '../secagg/errors.js';
import { resolveConfig, type JobConfig } from './config.js';

export class ConfigFileError extends Error {
  override name = 'ConfigFileError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

async function readRaw(file: string): Promise<unknown> {
  const extension = extname(file);
  if (extension === '.json') {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new ConfigFileError(file, `cannot read it (${(error as NodeJS.ErrnoException).code})`);
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ConfigFileError(file, `not valid JSON: ${(error as Error).message}`);
    }
  }
  if (['.js', '.mjs', '.ts', '.mts'].includes(extension)) {
    const module = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
    if (module.default === undefined) throw new ConfigFileError(file, 'has no default export');
    return module.default;
  }
  throw new ConfigFileError(file, `expected a .json, .js, .mjs or .ts config, got "${extension}"`);
}

export async function loadConfig(file: string): Promise<JobConfig> {
  const raw = await readRaw(file);
  try {
    return resolveConfig(raw);
  } catch (error) {
    if (error instanceof ParameterError) throw new ConfigFileError(file, error.message);
    throw error;
  }
}
