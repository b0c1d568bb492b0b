/**
 * The declared twin of moby-15127 gives the coded lab's verdicts on this kernel, variant by variant,
 * and udp-stale-dnat (a lab written only as a lab file) decides every variant. Both labs run as
 * copies under their own names and instances in their own state folder; everything is taken down.
 */
import test from 'ava';
import { envFor, lab, labCopy, tempHome } from '../helpers/cli.js';
import { namespacesWithPrefix } from '../helpers/host.js';

interface RunJson {
  variants: Array<{ name: string; verdict: string; reason: string }>;
}

const home = tempHome('lab-declared-');
const env = envFor(home);

const copies = [
  ['moby-15127', 'twin-coded', 'tw1'],
  ['moby-15127-declared', 'twin-declared', 'tw2'],
  ['udp-stale-dnat', 'twin-stale-dnat', 'tw3'],
] as const;

test.after.always(async () => {
  for (const [source, name, instance] of copies) await lab(['down', labCopy(source, name, home), '--instance', instance], env);
});

async function run(source: string, name: string, instance: string): Promise<RunJson> {
  const file = labCopy(source, name, home);
  const result = await lab(['run', file, '--instance', instance, '--json'], env);
  return JSON.parse(result.stdout) as RunJson;
}

test.serial('moby-15127-declared gives the verdicts of the coded moby-15127, variant by variant', async (t) => {
  const coded = await run('moby-15127', 'twin-coded', 'tw1');
  const declared = await run('moby-15127-declared', 'twin-declared', 'tw2');
  for (const v of [...coded.variants, ...declared.variants]) t.log(`${v.name}: ${v.verdict}: ${v.reason}`);
  t.deepEqual(
    declared.variants.map((v) => v.name),
    coded.variants.map((v) => v.name),
  );
  t.deepEqual(
    declared.variants.map((v) => v.verdict),
    coded.variants.map((v) => v.verdict),
  );
  t.false(
    coded.variants.some((v) => v.verdict === 'INCONCLUSIVE'),
    'the coded lab decided every variant',
  );
  t.deepEqual(await namespacesWithPrefix('lab.twin-'), []);
});

test.serial('udp-stale-dnat decides each variant from its captures and agents', async (t) => {
  const result = await run('udp-stale-dnat', 'twin-stale-dnat', 'tw3');
  const verdicts = Object.fromEntries(result.variants.map((v) => [v.name, v.verdict]));
  for (const v of result.variants) t.log(`${v.name}: ${v.verdict}: ${v.reason}`);
  t.deepEqual(verdicts, { 'keep-entry': 'REPRODUCED', 'delete-entry': 'NOT_REPRODUCED', 'new-source-port': 'NOT_REPRODUCED' });
  t.regex(result.variants[0]!.reason, /[1-9]\d* datagrams still went to the old backend after the move; 0 datagrams reached the new backend/);
  t.deepEqual(await namespacesWithPrefix('lab.twin-'), []);
});
