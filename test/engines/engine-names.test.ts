import test from 'ava';
import { ENGINES, engineLabel, parseEngineList, parseEngineName } from '../../src/engines/engine-names.js';
import { LabError } from '../../src/errors.js';

test('an engine is named by its series, host or emulated', (t) => {
  t.deepEqual(parseEngineName('26.1'), { kind: 'debian', series: '26.1' });
  t.deepEqual(parseEngineName(' Host '), { kind: 'host' });
  t.deepEqual(parseEngineName('emulated'), { kind: 'emulated' });
});

test('an unknown engine is a usage error naming the known ones', (t) => {
  const error = t.throws(() => parseEngineName('19.03'), { instanceOf: LabError });
  t.is(error.message, '"19.03" is not a Docker engine this tool knows');
  t.regex(error.hint!, /20\.10 \(Debian bookworm's docker\.io\), 26\.1 \(Debian trixie's docker\.io\), host .* or emulated/);
  t.is(error.exitCode, 2);
});

test('a list keeps the order given and names each engine once', (t) => {
  t.deepEqual(parseEngineList('26.1, 20.10,26.1').map(engineLabel), ['26.1', '20.10']);
  t.throws(() => parseEngineList(' , '), { message: '--docker names no engine' });
});

test('every engine brings docker.io, containerd and runc, and says why a package comes from another suite', (t) => {
  for (const e of ENGINES) {
    const names = e.packages.map((p) => p.name);
    for (const needed of ['docker.io', 'containerd', 'runc', 'tini']) t.true(names.includes(needed), `${e.series} lacks ${needed}`);
    t.is(e.packages.find((p) => p.name === 'docker.io')!.suite, e.suite);
    for (const p of e.packages.filter((p) => p.suite !== e.suite)) t.truthy(p.why, `${e.series}: ${p.name} from ${p.suite} without a reason`);
  }
});
