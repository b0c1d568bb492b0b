/** The accelerator choice without booting: LAB_ACCEL overrides the probe, and a bad value is a usage error naming the good ones. */
import test from 'ava';
import { LabError } from '../../src/errors.js';
import { guestAccel } from '../../src/kernels/accel.js';
import type { CachedKernel } from '../../src/kernels/cache.js';

const kernel = { root: '/nonexistent' } as CachedKernel;

test.serial('LAB_ACCEL=tcg or kvm is taken as it is, without a probe; anything else is refused', async (t) => {
  const before = process.env.LAB_ACCEL;
  try {
    const said: string[] = [];
    process.env.LAB_ACCEL = 'tcg';
    t.is(await guestAccel(kernel, (l) => said.push(l)), 'tcg');
    process.env.LAB_ACCEL = 'kvm';
    t.is(await guestAccel(kernel, (l) => said.push(l)), 'kvm');
    t.deepEqual(said, [], 'nothing probed, nothing said');
    process.env.LAB_ACCEL = 'hvf';
    const error = await t.throwsAsync(guestAccel(kernel), { instanceOf: LabError });
    t.is(error?.message, 'LAB_ACCEL is "hvf"');
    t.regex(error?.hint ?? '', /LAB_ACCEL=tcg or LAB_ACCEL=kvm/);
  } finally {
    if (before === undefined) delete process.env.LAB_ACCEL;
    else process.env.LAB_ACCEL = before;
  }
});
