#!/usr/bin/env node
// The `sepal` command line: a table of subcommands, each loaded only when it runs so that a
// command's dependencies (TensorFlow.js, SQLite, …) cost nothing to the others.
import { UsageError } from './usage.js';

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const commands: Record<string, Command> = {
  simulate: {
    summary: 'run a federated job in one process (default: the Fashion-MNIST demo)',
    run: async (argv) => (await import('./simulate.js')).main(argv),
  },
  'secagg simulate': {
    summary: 'simulate one SecAgg/SecAgg+ round in one process and check its result',
    run: async (argv) => (await import('./secagg-simulate.js')).main(argv),
  },
  'attest verify': {
    summary: 'verify an Intel SGX/TDX DCAP quote against collateral and a policy',
    run: async (argv) => (await import('./attest-verify.js')).main(argv),
  },
  'attest verify-cert': {
    summary: 'verify an RA-TLS certificate (Gramine or Sepal) and the evidence it carries',
    run: async (argv) => (await import('./attest-verify-cert.js')).main(argv),
  },
  'manifest keygen': {
    summary: 'make an Ed25519 key pair for signing integrity manifests',
    run: async (argv) => (await import('./manifest.js')).keygen(argv),
  },
  'manifest create': {
    summary: 'hash the code bundle and data files into an integrity manifest',
    run: async (argv) => (await import('./manifest.js')).create(argv),
  },
  'manifest sign': {
    summary: 'sign an integrity manifest with Ed25519',
    run: async (argv) => (await import('./manifest.js')).sign(argv),
  },
  'manifest verify': {
    summary: 'check a signed manifest against the files, naming any that differ',
    run: async (argv) => (await import('./manifest.js')).verify(argv),
  },
  // Before 'seal': the first command whose words match is run.
  'seal keygen': {
    summary: 'make a random key for a sealed mount',
    run: async (argv) => (await import('./seal.js')).keygen(argv),
  },
  seal: {
    summary: 'encrypt and authenticate a file into a sealed mount',
    run: async (argv) => (await import('./seal.js')).seal(argv),
  },
  unseal: {
    summary: 'decrypt a file of a sealed mount after checking every chunk',
    run: async (argv) => (await import('./seal.js')).unseal(argv),
  },
  vfl: {
    summary: 'vertical FL example: PSI-aligned split learning on Fashion-MNIST vs central',
    run: async (argv) => (await import('./vfl.js')).main(argv),
  },
  server: {
    summary: 'serve a job to networked nodes (TLS, node allow-list, SQLite state, resumable)',
    run: async (argv) => (await import('./server.js')).main(argv),
  },
  client: {
    summary: 'run one node of a job served by `sepal server`',
    run: async (argv) => (await import('./client.js')).main(argv),
  },
  certs: {
    summary: 'create a development CA, server certificate and node identities',
    run: async (argv) => (await import('./certs.js')).main(argv),
  },
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(
    ([name, command]) => `  sepal ${name.padEnd(width)}  ${command.summary}`,
  );
  return ['Usage:', ...lines, '', 'Run a command with --help for its options.'].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const name = Object.keys(commands).find((candidate) => {
    const words = candidate.split(' ');
    return words.every((word, i) => argv[i] === word);
  });
  if (name === undefined) {
    const asked = argv.length === 0 || argv[0] === '--help' || argv[0] === 'help';
    (asked ? console.log : console.error)(help());
    return asked ? 0 : 2;
  }
  const command = commands[name] as Command;
  try {
    return await command.run(argv.slice(name.split(' ').length));
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`sepal ${name}: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
