/** The labs written only as lab files, for real: every variant as its lab file expects on this kernel (--check). */
import { assertGone, cannotRunHere, runPinned, testUnless } from '../helpers/e2e.js';

for (const name of ['docker-1090-declared', 'moby-15127-declared', 'udp-stale-dnat'])
  testUnless(cannotRunHere(), `lab run ${name} --check: every variant as expected on this kernel`, async (t) => {
    const { json } = await runPinned(t, name, 'e2e');
    for (const v of json.variants) t.not(v.verdict, 'INCONCLUSIVE', `${v.name}: a declared lab decides from its rules`);
    await assertGone(t, name, 'e2e');
  });
