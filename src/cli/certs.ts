/**
 * `sepal certs <dir>`: a development CA, a server certificate for localhost, and node identities
 * (Ed25519 keys with client certificates) on an allow-list. Reuses the CA already in <dir>.
 */
import { parseArgs } from 'node:util';
import { certPaths, createDevelopmentPki } from '../deploy/certs.js';
import { numberFlag } from './client-server-flags.js';
import { UsageError } from './usage.js';

const HELP = `Usage: sepal certs <dir> [--nodes N] [--node NAME ...] [--not-allowed]

Creates in <dir> what is missing of: a development CA (ca.pem, ca.key), a server certificate for
localhost / 127.0.0.1 (server.pem, server.key), and for each node an Ed25519 identity key with a
client certificate (nodes/NAME.pem, nodes/NAME.key) added to allow-list.txt.

  --nodes N        nodes node-0 .. node-(N-1)
  --node NAME      a node of this name (repeatable)
  --not-allowed    leave the new nodes off the allow-list
`;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        nodes: { type: 'string' },
        node: { type: 'string', multiple: true },
        'not-allowed': { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  const [dir, ...extra] = positionals;
  if (dir === undefined || extra.length > 0) throw new UsageError('expected one directory');
  const count = numberFlag({ nodes: values.nodes }, 'nodes', 0);
  const names = [...Array.from({ length: count }, (_, i) => `node-${i}`), ...(values.node ?? [])];
  const created = await createDevelopmentPki(dir, names, values['not-allowed'] !== true);
  const paths = certPaths(dir);
  console.log(`CA ${paths.ca}; server ${paths.serverCert}`);
  for (const { name, key } of created) console.log(`node ${name}: key ${key}`);
  console.log(
    [
      '',
      'Serve with:',
      `  sepal server --config JOB --cert ${paths.serverCert} --key ${paths.serverKey} \\`,
      `    --ca ${paths.ca} --allow-list ${paths.allowList}`,
      'Join with:',
      `  sepal client --server https://127.0.0.1:7443 --config JOB --ca ${paths.ca} \\`,
      `    --cert ${paths.node('NAME').cert} --key ${paths.node('NAME').key}`,
    ].join('\n'),
  );
  return 0;
}
