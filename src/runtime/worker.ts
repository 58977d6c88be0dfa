/**
 * Starting Node worker threads from Sepal's own modules, whether Sepal runs compiled (dist/, .js)
 * or from its TypeScript sources under tsx (.ts). Node-only; nothing in the isomorphic core
 * imports it except through the crypto backend seam.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The URL of the module `name` beside `baseUrl` with the same extension as `baseUrl`: `.ts` when
 * running TypeScript sources under tsx, `.js` when running compiled code from dist/. Use it to
 * name modules to load in workers: `moduleBeside(import.meta.url, 'mask-worker')`.
 */
export function moduleBeside(baseUrl: string, name: string): string {
  const extension = /\.[cm]?[jt]s$/.exec(new URL(baseUrl).pathname)?.[0] ?? '.js';
  return new URL(`./${name}${extension}`, baseUrl).href;
}

/**
 * A thread running the module at `entry` (a file: URL). From TypeScript sources the entry is a .ts
 * file, and tsx (a devDependency) must load it; but Node 20's tsx installs its loader on the main
 * thread only, so such a worker first registers tsx itself. Compiled code starts the .js directly.
 */
export function startModuleWorker(entry: string, options: WorkerOptions = {}): Worker {
  if (!entry.endsWith('.ts')) return new Worker(new URL(entry), options);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const bootstrap = `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
