/**
 * The run module's sequence, with a provider whose nodes answer only `uname -r` and a recording lifecycle: every
 * scenario fails at its first command, so each verdict is an honest INCONCLUSIVE and the run does not pass. What is
 * checked is the order of things: open, lock, up, run, down, publish, print, per target; serial or on copies.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCheckedLab } from '../../src/checked-lab.js';
import type { ResolvedLab } from '../../src/lab/model.js';
import { lockPath, processStart } from '../../src/lock.js';
import type { Provider } from '../../src/providers/types.js';
import { copiesAtOnce } from '../../src/run/variant-copies.js';
import { orchestrateRun, type RunEnvironment, type RunRequest } from '../../src/run/orchestrate.js';
import { writeState, creatingState } from '../../src/state.js';
import type { Step } from '../../src/ui/steps.js';

process.env.LAB_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-orchestrate-'));
const resultsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-orchestrate-results-'));
test.after.always(() => {
  for (const dir of [process.env.LAB_HOME!, resultsRoot]) fs.rmSync(dir, { recursive: true, force: true });
});

function fakeProvider(name: string, events: string[]): Provider {
  const exec = async (argv: readonly string[]) => {
    if (argv.join(' ') === 'uname -r') return { stdout: '6.99.0-fake\n', stderr: '', exitCode: 0 };
    // What run-lab reads of the kernel besides uname -r (kernel-version.ts): a node without /proc/version says so.
    if (argv[0] === 'cat' && argv[1]?.startsWith('/proc/version')) return { stdout: '', stderr: 'No such file or directory\n', exitCode: 1 };
    events.push(`exec ${argv[0]}`);
    throw new Error(`no such node here: ${argv[0]}`);
  };
  const refuse = () => Promise.reject(new Error('no such node here'));
  return {
    name,
    ownsHosts: false,
    preflight: async () => [],
    resourcesOf: () => ({}),
    upSteps: () => [],
    down: async () => ({ removed: [] }),
    transport: (_lab: ResolvedLab, node: string) => ({
      node,
      workDir: '/nonexistent',
      exec,
      start: () => {
        throw new Error('no such node here');
      },
      attach: refuse,
      put: refuse,
      get: refuse,
    }),
    describe: async () => [],
  } as unknown as Provider;
}

function environment(events: string[]): RunEnvironment {
  return {
    quiet: true,
    runSteps: async (steps: Step[]) => {
      for (const step of steps) {
        await step.run(() => undefined);
        for (const part of step.parts ?? []) await part.run(() => undefined);
      }
    },
    lifecycle: {
      labUp: async (lab) => void events.push(`up ${lab.id}`),
      labDown: async (id) => void events.push(`down ${id}`),
      withCleanupOnInterrupt: (_cleanup, fn) => fn(),
    },
    publish: async (lab, run) => {
      events.push(`publish ${lab.id} ${run.variants.map((v) => `${v.name}=${v.verdict}`).join(',')}`);
      return { markdown: path.join(run.resultsDir, 'report.md'), html: path.join(run.resultsDir, 'report.html') };
    },
    onTarget: (outcome) => void events.push(`print ${outcome.lab.id} on ${outcome.run.kernel}`),
  };
}

function request(instance: string, provider: Provider, events: string[], more: Partial<RunRequest> = {}): RunRequest {
  return {
    targets: [{}],
    open: async (target) => {
      events.push(`open ${target.kernel ?? 'host'}`);
      return { lab: loadCheckedLab('moby-15127', instance), provider };
    },
    keep: false,
    serial: true,
    concurrent: false,
    resultsRoot,
    policy: { check: false },
    ...more,
  };
}

test('serial: up, every variant judged from what failed, down, then the reports and the print, for each target', async (t) => {
  const events: string[] = [];
  const provider = fakeProvider('fake', events);
  const env = environment(events);
  const out = await orchestrateRun(request('orch1', provider, events, { targets: [{}, {}], variants: ['tcp', 'pktinfo'] }), env);
  const run = [
    'open host',
    'up moby-15127+orch1',
    ...events.filter((e) => e.startsWith('exec')).slice(0, 2),
    'down moby-15127+orch1',
    'publish moby-15127+orch1 tcp=INCONCLUSIVE,pktinfo=INCONCLUSIVE',
    'print moby-15127+orch1 on 6.99.0-fake',
  ];
  t.deepEqual(events, [...run, ...run]);
  t.false(out.passed, 'an INCONCLUSIVE fails the run');
  t.is(out.targets.length, 2);
  const [first] = out.targets;
  t.regex(first!.run.variants[0]!.reason, /^the scenario failed before its evidence was complete: .*no such node here/);
  t.is(path.dirname(first!.run.resultsDir), path.join(resultsRoot, 'moby-15127+orch1'));
  t.true(fs.existsSync(path.join(first!.run.resultsDir, 'tcp', 'evidence.json')));
  t.deepEqual(
    first!.run.variants.map((v) => v.expected?.verdict),
    ['NOT_REPRODUCED', 'NOT_REPRODUCED'],
    'held against the expectations for the kernel the run saw',
  );
  t.false(fs.existsSync(lockPath('moby-15127+orch1')), 'the lock is released once the run is over');
});

test('--keep leaves the lab up; a lab already up is neither brought up nor taken down', async (t) => {
  const events: string[] = [];
  const provider = fakeProvider('fake', events);
  await orchestrateRun(request('orch2', provider, events, { keep: true, variants: ['tcp'] }), environment(events));
  t.deepEqual(
    events.filter((e) => /^(up|down) /.test(e)),
    ['up moby-15127+orch2'],
  );
  const lab = loadCheckedLab('moby-15127', 'orch3');
  writeState({ ...creatingState(lab, 'fake', {}), status: 'up' });
  const seen: string[] = [];
  await orchestrateRun(request('orch3', provider, seen, { variants: ['tcp'] }), environment(seen));
  t.deepEqual(
    seen.filter((e) => /^(up|down) /.test(e)),
    [],
  );
});

test('copies: each variant on its own copy, brought up and taken down around it, when the provider can', async (t) => {
  const events: string[] = [];
  const provider = fakeProvider('netns', events);
  const out = await orchestrateRun(request('orch4', provider, events, { serial: false }), environment(events));
  const lab = loadCheckedLab('moby-15127', 'orch4');
  // A machine short of memory runs them serially on the lab itself (variant-copies.ts).
  const copies = copiesAtOnce(lab.variants.length) > 1 ? lab.variants.map((_, i) => `moby-15127+orch4-v${i + 1}`) : ['moby-15127+orch4'];
  t.deepEqual(events.filter((e) => e.startsWith('up ')).sort(), copies.map((c) => `up ${c}`).sort());
  t.deepEqual(events.filter((e) => e.startsWith('down ')).sort(), copies.map((c) => `down ${c}`).sort());
  t.deepEqual(
    out.targets[0]!.run.variants.map((v) => v.name),
    lab.variants.map((v) => v.name),
    'results in the order of the variants',
  );
  t.is(out.targets[0]!.run.kernel, '6.99.0-fake');
});

test('the exit policy: an INCONCLUSIVE fails a run; a scenario that failed never matches an expected INCONCLUSIVE', async (t) => {
  // docker-desktop-udp expects INCONCLUSIVE of kind emulation-gap on every kernel: its forwarder is not run. Here its scenario
  // fails (the fake nodes answer nothing), which is INCONCLUSIVE of kind error: never what a lab file expects.
  const events: string[] = [];
  const provider = fakeProvider('fake', events);
  const open: RunRequest['open'] = async () => ({ lab: loadCheckedLab('docker-desktop-udp', 'orch5'), provider });
  const plain = await orchestrateRun(request('orch5', provider, events, { open }), environment(events));
  t.deepEqual(
    plain.targets[0]!.run.variants.map((v) => [v.verdict, v.inconclusive, v.matchesExpected]),
    [['INCONCLUSIVE', 'error', false]],
  );
  t.false(plain.passed);
  const checked = await orchestrateRun(request('orch5', provider, events, { open, policy: { check: true } }), environment(events));
  t.false(checked.passed, 'a crash does not pass --check, even where the lab file expects an INCONCLUSIVE');
  t.deepEqual(checked.targets[0]!.checkFailures, ['sequence: INCONCLUSIVE differs from its expectation']);
  const other = await orchestrateRun(request('orch9', provider, events, { policy: { check: true }, variants: ['tcp'] }), environment(events));
  t.false(other.passed, 'an INCONCLUSIVE the lab file does not expect fails --check');
});

test('refused before anything runs: an unknown variant, a lab up on another provider, a lab another process holds', async (t) => {
  const events: string[] = [];
  const provider = fakeProvider('fake', events);
  const env = environment(events);
  const unknown = await t.throwsAsync(orchestrateRun(request('orch6', provider, events, { variants: ['nope'] }), env));
  t.is(unknown?.message, 'no variant "nope"');
  const lab = loadCheckedLab('moby-15127', 'orch7');
  writeState({ ...creatingState(lab, 'vagrant', {}), status: 'up' });
  const other = await t.throwsAsync(orchestrateRun(request('orch7', provider, events), env));
  t.is(other?.message, 'lab moby-15127+orch7 is up on provider vagrant, not fake');
  t.deepEqual(
    events.filter((e) => !e.startsWith('open')),
    [],
  );
  fs.mkdirSync(path.dirname(lockPath('moby-15127+orch8')), { recursive: true });
  fs.writeFileSync(lockPath('moby-15127+orch8'), JSON.stringify({ pid: 1, start: processStart(1), command: 'init', action: 'up', since: 'now' }));
  const busy = await t.throwsAsync(orchestrateRun(request('orch8', provider, events), env));
  t.regex(busy?.message ?? '', /^lab moby-15127\+orch8 is busy: process 1 /);
});

test('a variant with settings of its own runs on a copy built with them, in a serial run too; the others on the lab', async (t) => {
  const events: string[] = [];
  const provider = fakeProvider('netns', events);
  const env = environment(events);
  const built = new Map<string, boolean | undefined>();
  const labUp = env.lifecycle.labUp;
  env.lifecycle.labUp = async (lab, p, o) => {
    built.set(lab.id, lab.nodes.find((n) => n.name === 'dhost')!.docker!.userlandProxy);
    await labUp(lab, p, o);
  };
  const fixture = path.join(process.cwd(), 'test', 'fixtures', 'overrides', 'settings.yaml');
  const open: RunRequest['open'] = async () => ({ lab: loadCheckedLab(fixture, 'orch10'), provider });
  const out = await orchestrateRun(request('orch10', provider, events, { open }), env);
  t.deepEqual(
    events.filter((e) => /^(up|down) /.test(e)),
    ['up overrides+orch10', 'down overrides+orch10', 'up overrides+orch10-v2', 'down overrides+orch10-v2'],
  );
  t.deepEqual(
    [...built],
    [
      ['overrides+orch10', true],
      ['overrides+orch10-v2', false],
    ],
  );
  const variants = out.targets[0]!.run.variants;
  t.deepEqual(
    variants.map((v) => v.name),
    ['as-written', 'no-proxy-narrow', 'strict-rpf'],
    'results in the order of the variants',
  );
  t.is(variants[1]!.overrides?.[0], 'node dhost: docker.userlandProxy = false');
  t.is(variants[0]!.overrides, undefined);

  const fake = fakeProvider('fake', []);
  const onFake: RunRequest['open'] = async () => ({ lab: loadCheckedLab(fixture, 'orch11'), provider: fake });
  const refused = await t.throwsAsync(orchestrateRun(request('orch11', fake, [], { open: onFake }), environment([])));
  t.regex(refused?.message ?? '', /no-proxy-narrow set node or link settings of their own .* provider fake cannot bring up copies/);
});
