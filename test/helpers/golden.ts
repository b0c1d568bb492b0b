/** Golden files: compare with the stored expectation; UPDATE_GOLDEN=1 rewrites them. */
import fs from 'node:fs';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { root } from './cli.js';

export function matchesGolden(t: ExecutionContext, relativePath: string, actual: string): void {
  const file = path.join(root, 'test', 'fixtures', relativePath);
  if (process.env.UPDATE_GOLDEN === '1' || !fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    if (process.env.UPDATE_GOLDEN !== '1') t.fail(`golden file ${relativePath} did not exist; written now, check it and run again`);
  }
  t.is(actual, fs.readFileSync(file, 'utf8'), `differs from golden ${relativePath} (UPDATE_GOLDEN=1 to accept)`);
}
