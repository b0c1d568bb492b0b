/**
 * What a clean clone holds. A symlink committed from a worktree once pointed .cache at a folder that exists
 * only on the machine it was made on, and CI's clone could not fetch docker-proxy into it.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { root } from './helpers/cli.js';

test('the repository tracks no symlinks', (t) => {
  const staged = execFileSync('git', ['ls-files', '--stage'], { cwd: root, encoding: 'utf8' });
  const links = staged
    .split('\n')
    .filter((line) => line.startsWith('120000 '))
    .map((line) => line.split('\t')[1]);
  t.deepEqual(links, []);
});
