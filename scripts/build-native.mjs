// Builds native/ (the secure-aggregation kernels, native/secagg_kernels.c) with node-gyp. Run by the package's
// install script (so by `npm install` and `npm ci`) and by `npm run build:native`.
//
// A failed build stops nothing: Sepal then applies masks through node:crypto, which costs a
// secure-aggregation server about twice the CPU. The message says so and how to retry; with
// --strict (npm run build:native) a failure is an error.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const strict = process.argv.includes('--strict');
const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native');

/** npm hands its bundled node-gyp to lifecycle scripts; outside npm, look beside this Node. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    resolve(process.execPath, '../../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  return candidates.find((path) => path !== undefined && existsSync(path));
}

/** Node's own headers when they are installed beside it, so that nothing is downloaded. */
function nodeDirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = resolve(process.execPath, '../..');
  return existsSync(join(prefix, 'include/node/node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function giveUp(reason) {
  const message =
    `sepal: the native secure-aggregation kernels were not built (${reason}). Secure ` +
    'aggregation still works, through node:crypto and WebAssembly, at about half the server ' +
    'speed. To retry: npm run build:native';
  console.warn(message);
  process.exit(strict ? 1 : 0);
}

if (process.env.SEPAL_NATIVE === '0') giveUp('SEPAL_NATIVE=0');
const gyp = nodeGyp();
if (gyp === undefined) giveUp('node-gyp not found');
const result = spawnSync(process.execPath, [gyp, 'rebuild', ...nodeDirArgs()], {
  cwd: nativeDir,
  stdio: ['ignore', 'ignore', 'pipe'],
  encoding: 'utf8',
});
if (result.status !== 0) {
  const lastLines = (result.stderr ?? '').trim().split('\n').slice(-3).join(' | ');
  giveUp(`node-gyp exited with ${result.status ?? result.signal}: ${lastLines}`);
}
