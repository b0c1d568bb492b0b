import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../../src/errors.js';
import { loadLab } from '../../src/lab/load.js';
import {
  checkedRegistry,
  defaultProvider,
  descriptorOf,
  leftoverRemovers,
  planOf,
  providerCan,
  providerNames,
  providerOptions,
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
  t.deepEqual(Object.keys(providerOptions()).sort(), ['box', 'docker', 'inventory', 'node-kernels', 'verbose']);
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

test('outside src/providers/ no module names a provider: adding one is its folder and a line in the registry', (t) => {
  const named: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (file !== path.join(root, 'src', 'providers')) walk(file);
      } else if (/\.c?ts$/.test(entry.name)) {
        const text = fs.readFileSync(file, 'utf8');
        for (const name of providerNames()) if (new RegExp(`['"\`]${name}['"\`]`).test(text)) named.push(`${path.relative(root, file)}: '${name}'`);
      }
    }
  };
  walk(path.join(root, 'src'));
  // A lab file's own section is called vagrant (its VMs' box, memory), and "netns" is a word of ip's command line.
  const known = ["src/lab/validate.ts: 'vagrant'", "src/lab/declared/spec.ts: 'netns'", "src/transport/netns.ts: 'netns'"];
  t.deepEqual(
    named.filter((n) => !known.includes(n)),
    [],
  );
});
