import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../../src/errors.js';
import * as z from 'zod';
import { loadLab, loadLabText, parseLabFile } from '../../src/lab/load.js';
import {
  checkedRegistry,
  defaultProvider,
  descriptorOf,
  leftoverRemovers,
  planOf,
  providerCan,
  providerNames,
  providerOptions,
  providerSettings,
  providers,
  providersWith,
  renderNames,
  sysctlScopeOf,
} from '../../src/providers/registry.js';
import type { ProviderDescriptor } from '../../src/providers/types.js';
import { assertRunsOtherKernels } from '../../src/commands/shared.js';
import { envFor, lab, root, tempHome } from '../helpers/cli.js';

test('the registry lists every provider, the first as default, with the options each declares', (t) => {
  t.deepEqual(providerNames(), ['netns', 'ssh', 'vagrant', 'qemu']);
  t.is(defaultProvider, 'netns');
  t.deepEqual(Object.keys(providerOptions()).sort(), ['box', 'docker', 'inventory', 'ssh', 'verbose']);
  t.deepEqual(renderNames(), ['vagrant']);
  t.deepEqual(
    leftoverRemovers('x').map((r) => r.provider),
    ['netns', 'vagrant', 'qemu'],
  );
});

test('an unknown provider, or one without a dry run or a render, is a usage error that names the ones there are', async (t) => {
  const unknown = t.throws(() => descriptorOf('firecracker'), { instanceOf: LabError });
  t.is(unknown?.hint, 'supported providers: netns, ssh, vagrant, qemu');
  t.is(unknown?.exitCode, 2);
  t.regex(t.throws(() => descriptorOf('netns', 'render'))?.message ?? '', /lab render knows the vagrant provider only, not "netns"/);
  const lab = loadLab('docker-1090');
  const noPlan = await t.throwsAsync(planOf('vagrant', lab, {}), { instanceOf: LabError });
  t.regex(noPlan?.hint ?? '', /lab render <lab> --provider vagrant/);
  t.is(await planOf('netns', lab, {}), fs.readFileSync(path.join(root, 'test', 'fixtures', 'golden', 'docker-1090.netns-plan.txt'), 'utf8'));
});

test('a bad box is refused before anything loads; a repeated option is refused too', async (t) => {
  const vagrant = descriptorOf('vagrant');
  t.regex((await t.throwsAsync(vagrant.create({ box: 'x"; system("id")' })))?.message ?? '', /is not a box name/);
  t.regex((await t.throwsAsync(vagrant.create({ box: ['a', 'b'] })))?.message ?? '', /--box takes one value/);
});

test('a provider name taken twice, or an option two providers declare differently, is caught when the list loads', (t) => {
  const base = descriptorOf('netns');
  const twin: ProviderDescriptor = { ...base };
  t.throws(() => checkedRegistry([base, twin]), { message: /provider netns registered twice/ });
  const a: ProviderDescriptor = { ...base, name: 'a', options: { image: { type: 'string', describe: 'a provider: an image' } } };
  const b: ProviderDescriptor = { ...base, name: 'b', options: { image: { type: 'boolean', describe: 'b provider: an image' } } };
  t.throws(() => checkedRegistry([a, b]), { message: /option --image of b differs from a's/ });
  const same: ProviderDescriptor = { ...a, name: 'c' };
  t.notThrows(() => checkedRegistry([a, same]));
});

test('capabilities: netns and qemu run labs on other kernels, only netns brings up copies of a lab; an unknown provider can do neither', (t) => {
  t.deepEqual(providersWith('otherKernels'), ['netns', 'qemu']);
  t.deepEqual(providersWith('variantCopies'), ['netns']);
  t.true(providerCan('netns', 'otherKernels'));
  t.false(providerCan('vagrant', 'otherKernels'));
  t.false(providerCan('ssh', 'variantCopies'));
  t.false(providerCan('firecracker', 'otherKernels'));
});

test('--kernel with a provider that cannot: the refusal names the providers of the registry that can', async (t) => {
  t.notThrows(() => assertRunsOtherKernels('netns'));
  const refused = t.throws(() => assertRunsOtherKernels('vagrant'), { instanceOf: LabError });
  t.is(refused?.message, '--kernel runs the lab with the netns or qemu provider inside a guest, not with vagrant');
  t.is(refused?.exitCode, 2);
  // Another registry, another answer: the names come from the descriptors, not from the command.
  const kvm: ProviderDescriptor = { ...descriptorOf('netns'), name: 'kvm' };
  t.throws(() => assertRunsOtherKernels('ssh', [...providers, kvm]), {
    message: '--kernel runs the lab with the netns, qemu or kvm provider inside a guest, not with ssh',
  });
  t.notThrows(() => assertRunsOtherKernels('kvm', [...providers, kvm]));
  const r = await lab(['up', 'docker-1090', '--kernel', '5.10', '--provider', 'ssh', '--instance', 'kref'], envFor(tempHome()));
  t.is(r.code, 2);
  t.is(r.stderr, 'error: --kernel runs the lab with the netns or qemu provider inside a guest, not with ssh\n');
});

test('each provider says which sysctls its nodes take; an unknown provider is an error, never the netns rules', (t) => {
  t.deepEqual(Object.fromEntries(providers.map((d) => [d.name, d.sysctls])), { netns: 'namespace', ssh: 'net', vagrant: 'any', qemu: 'any' });
  const unknown = t.throws(() => sysctlScopeOf('firecracker')) as LabError;
  t.true(unknown instanceof LabError);
  t.is(unknown.message, 'unknown provider "firecracker"');
  t.regex(unknown.hint ?? '', /netns, ssh, vagrant, qemu/);
});

/** Every .ts module under a folder of the repository, by its path from the root. */
function modules(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) Object.assign(out, modules(rel));
    else if (/\.c?ts$/.test(entry.name)) out[rel] = fs.readFileSync(path.join(root, rel), 'utf8');
  }
  return out;
}

const providerFolders = fs
  .readdirSync(path.join(root, 'src', 'providers'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

/** How registry.ts breaks "one line per provider": each folder imported on one line, its descriptor alone, listed once. */
function registrationProblems(registry: string, folders: string[]): string[] {
  const problems: string[] = [];
  for (const folder of folders) {
    const lines = registry.split('\n').filter((l) => l.includes(`'./${folder}/`));
    if (lines.length !== 1) {
      problems.push(`${folder}: ${lines.length} lines import from its folder`);
      continue;
    }
    const imported = /^import \{ (\w+) \} from '\.\/[\w-]+\/descriptor\.js';$/.exec(lines[0]!)?.[1];
    if (!imported) problems.push(`${folder}: not its descriptor alone: ${lines[0]}`);
    else if ((registry.match(new RegExp(`\\b${imported}\\b`, 'g')) ?? []).length !== 2) problems.push(`${folder}: ${imported} is not listed exactly once`);
  }
  return problems;
}

/** Modules that import from a provider's folder (only its own and the registry may) or name a provider in quotes. */
function reachingProblems(sources: Record<string, string>, folders: string[]): string[] {
  const problems: string[] = [];
  for (const [file, text] of Object.entries(sources)) {
    // Providers may build on each other's modules (qemu runs the netns plan inside its guests); the rest of the code may not.
    if (file.startsWith('src/providers/')) continue;
    for (const folder of folders) {
      const own = `src/providers/${folder}/`;
      for (const m of text.matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'\s*\)/g)) {
        const spec = m[1] ?? m[2]!;
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
        if (spec.startsWith('.') && target.startsWith(own) && file !== 'src/providers/registry.ts') problems.push(`${file} imports ${target}`);
      }
      if (new RegExp(`['"\`]${folder}['"\`]`).test(text)) problems.push(`${file}: '${folder}'`);
    }
  }
  return problems;
}

test('adding a provider is its folder and one registry line: each folder is registered once, under its name', (t) => {
  t.true(providerFolders.length >= 3, providerFolders.join(', '));
  t.deepEqual([...providerNames()].sort(), providerFolders, 'a provider is named as its folder, and every folder is registered');
  t.deepEqual(registrationProblems(fs.readFileSync(path.join(root, 'src', 'providers', 'registry.ts'), 'utf8'), providerFolders), []);
});

test('outside its folder only the registry imports a provider, and no module names one', (t) => {
  const sources = { ...modules('src'), ...modules('scripts') };
  t.true(Object.keys(sources).length > 50, 'the sources were found');
  // "netns" is also a word of ip's command line.
  const known = ["src/lab/declared/steps/run.ts: 'netns'", "src/transport/netns.ts: 'netns'", "src/engines/existing.ts: 'netns'"];
  t.deepEqual(
    reachingProblems(sources, providerFolders).filter((n) => !known.includes(n)),
    [],
  );
});

test("the counting checks fail on a second import line, an unlisted descriptor, a module outside src/providers reaching in or naming one (a provider may build on another's modules)", (t) => {
  const registry = [
    "import { aDescriptor } from './a/descriptor.js';",
    "import { aHelper } from './a/helper.js';",
    "import { bDescriptor } from './b/descriptor.js';",
    "import { cAll } from './c/index.js';",
    'export const providers = checkedRegistry([aDescriptor]);',
  ].join('\n');
  t.deepEqual(registrationProblems(registry, ['a', 'b', 'c', 'd']), [
    'a: 2 lines import from its folder',
    'b: bDescriptor is not listed exactly once',
    "c: not its descriptor alone: import { cAll } from './c/index.js';",
    'd: 0 lines import from its folder',
  ]);
  const sources = {
    'src/commands/up.ts': "const { x } = await import('../providers/a/engine.js');",
    'src/providers/registry.ts': "import { aDescriptor } from './a/descriptor.js';",
    'src/providers/b/index.ts': "import { y } from '../a/plan.js';\nif (p === 'b') {}",
    'src/run/run-lab.ts': "if (state.provider === 'a') {}",
  };
  t.deepEqual(reachingProblems(sources, ['a', 'b']), ['src/commands/up.ts imports src/providers/a/engine.js', "src/run/run-lab.ts: 'a'"]);
});

test("a provider's lab-file section comes from its descriptor; the lab layer alone knows none", async (t) => {
  t.deepEqual(Object.keys(providerSettings), ['vagrant']);
  const { labFileSchemaWith } = await import('../../src/lab/schema.js');
  const json = z.toJSONSchema(labFileSchemaWith(providerSettings), { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, unknown> };
  t.deepEqual(Object.keys(json.properties).at(-1), 'vagrant', "the provider's section comes after the lab's own keys");
  const file = path.join(root, 'test', 'fixtures', 'invalid', 'dangling-vagrant-machine.yaml');
  // Without the registry's sections (lab/load.ts as it is), the section is an unknown key like any other.
  t.regex(t.throws(() => parseLabFile(file), { instanceOf: LabError })?.details.join('\n') ?? '', /vagrant: unknown key "vagrant"/);
  // With them, the provider's own cross-check runs, and a good section reaches the resolved lab under the provider's name.
  t.regex(
    t.throws(() => parseLabFile(file, { settings: providerSettings }), { instanceOf: LabError })?.details.join('\n') ?? '',
    /vagrant\.machines\.clinet: found "clinet"/,
  );
  const good = fs.readFileSync(file, 'utf8').replace('clinet:', 'client:');
  const resolved = loadLabText(file, good, undefined, { settings: providerSettings });
  t.deepEqual(resolved.settings, { vagrant: { provider: 'libvirt', machines: { client: { memory: 2048 } } } });
  // A provider named like a key of the lab file would hide it: refused when the schema is composed.
  const clash = { nodes: descriptorOf('vagrant').settings! };
  t.throws(() => labFileSchemaWith(clash), { message: /provider nodes is named like a key of the lab file/ });
});
