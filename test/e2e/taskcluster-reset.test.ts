/** taskcluster-reset for real: every variant the lab file declares gives its expected verdict for this kernel. */
import { assertGone, cannotRunHere, runPinned, testUnless } from '../helpers/e2e.js';
import { rootSnapshot } from '../helpers/host.js';

testUnless(cannotRunHere(), 'lab run taskcluster-reset --check: every variant as expected on this kernel', async (t) => {
  const before = await rootSnapshot();
  const { json } = await runPinned(t, 'taskcluster-reset', 'e2e');
  for (const v of json.variants) t.is((v.evidence as { kernel?: string }).kernel ?? json.kernel, json.kernel, `${v.name}: the kernel is part of the run`);
  await assertGone(t, 'taskcluster-reset', 'e2e');
  t.is(await rootSnapshot(), before);
});
