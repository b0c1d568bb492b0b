/**
 * up, run and exec read a lab file once: a lenient check for its id (to find its state, which names the provider), then
 * the strict one with the provider. Both must say exactly what two separate reads said, for good files and bad ones.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { LabError, formatError } from '../../src/errors.js';
import { parseLabFile } from '../../src/lab/load.js';
import { labId } from '../../src/lab/resolve.js';
import { loadCheckedLab, loadCheckedOpenedLab, openLab, checkedLabId } from '../../src/checked-lab.js';
import { providerSettings } from '../../src/providers/registry.js';
import { labCopy, root, tempHome } from '../helpers/cli.js';

type Outcome = { value: unknown } | { error: string };

function outcome(fn: () => unknown): Outcome {
  try {
    return { value: fn() };
  } catch (error) {
    if (!(error instanceof LabError)) throw error;
    return { error: formatError(error) };
  }
}

const files = [
  ...fs.readdirSync(path.join(root, 'labs')).map((name) => path.join(root, 'labs', name, 'lab.yaml')),
  ...['invalid', 'declarative/invalid'].flatMap((dir) =>
    fs
      .readdirSync(path.join(root, 'test', 'fixtures', dir))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => path.join(root, 'test', 'fixtures', dir, f)),
  ),
];

test('opened once: the same id and the same lab, or the same errors in the same order, as two reads', (t) => {
  t.true(files.length > 30, `${files.length} files`);
  for (const file of files) {
    for (const sysctls of ['namespace', 'any'] as const) {
      // What labIdOf did: the topology with any sysctl (and the providers' own sections), without the scenario catalogue.
      const twice = outcome(() => labId(parseLabFile(file, { sysctls: 'any', settings: providerSettings }).name, 'x', '5.10'));
      const strictTwice = outcome(() => loadCheckedLab(file, 'x', { sysctls, kernel: '5.10' }));
      const opened = outcome(() => openLab(file, 'x'));
      if ('error' in opened) {
        t.deepEqual(opened, twice, `${file}: the read fails as the lenient read did`);
        continue;
      }
      const once = opened.value as ReturnType<typeof openLab>;
      const id = outcome(() => checkedLabId(once, '5.10'));
      t.deepEqual(id, twice, `${file}: id`);
      // The strict check comes only after the lenient one passed, as before; the lenient one must have changed nothing it sees.
      if ('error' in id) continue;
      t.deepEqual(
        outcome(() => loadCheckedOpenedLab(once, { sysctls, kernel: '5.10' })),
        strictTwice,
        `${file} with sysctls ${sysctls}`,
      );
    }
  }
});

test('the strict check uses what was read, not the file again', (t) => {
  const file = labCopy('docker-1090', 'opened-once', tempHome());
  const opened = openLab(file);
  t.is(checkedLabId(opened), 'opened-once');
  fs.writeFileSync(file, 'not: [a lab');
  t.is(loadCheckedOpenedLab(opened, { sysctls: 'namespace' }).name, 'opened-once');
  t.regex(t.throws(() => loadCheckedLab(file))?.message ?? '', /is not valid YAML/);
});

test('a bad instance is refused before the file is looked for', (t) => {
  t.is(t.throws(() => openLab('no-such-lab', 'Bad_Instance'))?.message, '"Bad_Instance" is not an instance name');
});
