import { execFileSync } from 'node:child_process';

/** The commit checked out at `root`, marked when its tracked files have changes. */
export function commitOf(root = '.'): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' });
  const head = git('rev-parse', 'HEAD').trim();
  return git('status', '--porcelain', '--untracked-files=no').trim() === ''
    ? head
    : `${head} (with changes)`;
}
