/** runCommand and startProcess, the process runners of up, down and run: real processes, the results and errors execa gave before. */
import test from 'ava';
import { LabError } from '../../src/errors.js';
import { runCommand, startProcess } from '../../src/transport/process.js';

async function failure(argv: string[], options = {}): Promise<LabError> {
  const error = await runCommand(argv, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof LabError)) throw new Error(`expected a LabError from ${argv.join(' ')}, got ${String(error)}`);
  return error;
}

test('output is kept whole (final newline included), stdin gets the input, the system PATH and extra variables are set', async (t) => {
  t.deepEqual(await runCommand(['sh', '-c', 'echo out; echo err >&2; exit 3'], { check: false }), { stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
  t.deepEqual(await runCommand(['cat'], { input: 'a\nb\n' }), { stdout: 'a\nb\n', stderr: '', exitCode: 0 });
  const env = await runCommand(['sh', '-c', 'echo "$PATH|$LAB_TEST_VALUE|$HOME"'], { env: { LAB_TEST_VALUE: 'x y' } });
  t.is(env.stdout, `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|x y|${process.env.HOME ?? ''}\n`);
  t.deepEqual(await runCommand(['true'], { input: 'x'.repeat(1_000_000) }), { stdout: '', stderr: '', exitCode: 0 }, 'input nobody reads');
});

test('a non-zero exit names the command and its last stderr lines', async (t) => {
  const error = await failure(['sh', '-c', 'for i in 1 2 3 4 5 6 7; do echo line$i >&2; done; exit 4']);
  t.is(error.message, 'command failed (exit 4): sh -c for i in 1 2 3 4 5 6 7; do echo line$i >&2; done; exit 4');
  t.deepEqual(error.details, ['line3', 'line4', 'line5', 'line6', 'line7']);
});

test('a missing tool, a timeout and a kill by a signal are failures that say which', async (t) => {
  const missing = await failure(['lab-no-such-tool', '-x']);
  t.is(missing.message, 'command failed: lab-no-such-tool -x');
  t.deepEqual(missing.details, ['spawn lab-no-such-tool ENOENT']);
  t.is(missing.hint, "'lab-no-such-tool' is not installed; see the README for the packages a lab needs");
  // stdin stays open without input, as with execa: cat waits until the timeout stops it.
  const slow = await failure(['cat'], { timeoutMs: 300 });
  t.deepEqual(slow.details, ['timed out after 300 ms']);
  const killed = await failure(['sh', '-c', 'kill -9 $$']);
  t.is(killed.message, 'command failed: sh -c kill -9 $$');
  t.deepEqual(killed.details, ['could not start']);
});

test('a long process: stdout line by line (also lines before anyone listened), stderr kept, the exit code, the system PATH', async (t) => {
  const proc = startProcess(['sh', '-c', 'echo "$PATH|$LAB_TEST_VALUE"; echo second; echo oops >&2; read x; exit 5'], { env: { LAB_TEST_VALUE: 'v' } });
  await new Promise((r) => setTimeout(r, 200));
  const lines: string[] = [];
  proc.onLine((line) => lines.push(line));
  t.is(await proc.exited, 5, 'stdin is closed: read returns at once');
  t.deepEqual(lines, ['/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|v', 'second']);
  t.is(proc.stderrText(), 'oops\n');
  t.true(typeof proc.pid === 'number');
});

test('a long process stopped by a signal exits with null; one ignoring SIGTERM is killed 5 s later; a missing tool says why', async (t) => {
  const sleeper = startProcess(['sleep', '30']);
  sleeper.signal('SIGINT');
  t.is(await sleeper.exited, null);
  const stubborn = startProcess(['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.1; done']);
  await new Promise<void>((r) => stubborn.onLine(() => r()));
  const asked = Date.now();
  stubborn.signal('SIGTERM');
  t.is(await stubborn.exited, null);
  t.true(Date.now() - asked >= 4900, 'not before the 5 s');
  const missing = startProcess(['lab-no-such-tool']);
  t.is(await missing.exited, null);
  t.regex(missing.stderrText(), /ENOENT/);
});
