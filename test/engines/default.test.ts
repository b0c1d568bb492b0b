import test from 'ava';
import { autoEngine, defaultEngine, DEFAULT_ENGINE } from '../../src/engines/default.js';
import { knownAccel } from '../../src/kernels/accel.js';

test('the default is auto: a real engine where one can run; LAB_DOCKER names another', (t) => {
  t.is(DEFAULT_ENGINE, 'auto');
  t.is(defaultEngine({ rootless: false }, {}), autoEngine({ rootless: false }).engine);
  t.is(defaultEngine({ rootless: false }, { LAB_DOCKER: '26.1' }), '26.1');
  t.is(defaultEngine({ rootless: false }, { LAB_DOCKER: 'Emulated' }), 'emulated');
  t.is(defaultEngine({ rootless: true }, {}), 'emulated');
  t.throws(() => defaultEngine({ rootless: false }, { LAB_DOCKER: '19.03' }), { message: /"19\.03" is not a Docker engine this tool knows/ });
});

test('auto falls back to the imitation, saying why, where a real engine cannot run', (t) => {
  t.deepEqual(autoEngine({ rootless: true }), { engine: 'emulated', fallback: 'a real Docker engine needs root' });
  t.deepEqual(autoEngine({ rootless: true, kernel: '5.10', accel: 'kvm' }), { engine: 'emulated', fallback: 'a real Docker engine needs root' });
  const here = autoEngine({ rootless: false });
  t.true(here.engine === 'emulated' ? /cached|busybox/.test(here.fallback ?? '') : ['20.10', '26.1'].includes(here.engine), JSON.stringify(here));
});

test('in a --kernel guest auto picks the real engine under KVM, and keeps the imitation under TCG or before KVM was probed', (t) => {
  const here = autoEngine({ rootless: false });
  // Under KVM the guest gets what this machine's kernel gets (the newest cached engine, or the same reason it has none).
  t.deepEqual(autoEngine({ rootless: false, kernel: '5.10', accel: 'kvm' }), here);
  const tcg = autoEngine({ rootless: false, kernel: '5.10', accel: 'tcg' });
  t.is(tcg.engine, 'emulated');
  t.regex(
    tcg.fallback ?? '',
    /--kernel 5\.10 guest would take about a minute to start: the guest runs under software emulation \(TCG\), as KVM does not work here/,
  );
  const unknown = autoEngine({ rootless: false, kernel: '5.10' });
  t.is(unknown.engine, 'emulated');
  t.regex(unknown.fallback ?? '', /whether KVM works here is not known until a guest has booted once \(LAB_ACCEL=kvm says it does\)/);
});

test('defaultEngine reads the guest accelerator from LAB_ACCEL (or the remembered probe) for a --kernel lab', (t) => {
  const here = autoEngine({ rootless: false }).engine;
  t.is(defaultEngine({ rootless: false, kernel: '5.10' }, { LAB_ACCEL: 'kvm' }), here);
  t.is(defaultEngine({ rootless: false, kernel: '5.10' }, { LAB_ACCEL: 'tcg' }), 'emulated');
  // An accelerator given by the caller wins over the environment's.
  t.is(defaultEngine({ rootless: false, kernel: '5.10', accel: 'tcg' }, { LAB_ACCEL: 'kvm' }), 'emulated');
  // Named engines are not second-guessed: 26.1 in a TCG guest when asked for.
  t.is(defaultEngine({ rootless: false, kernel: '5.10' }, { LAB_ACCEL: 'tcg', LAB_DOCKER: '26.1' }), '26.1');
});

test('knownAccel: LAB_ACCEL first, never a probe', (t) => {
  t.is(knownAccel({ LAB_ACCEL: 'kvm' }), 'kvm');
  t.is(knownAccel({ LAB_ACCEL: 'tcg' }), 'tcg');
  t.is(knownAccel({ LAB_ACCEL: 'fast' }), undefined);
  t.true([undefined, 'tcg', 'kvm'].includes(knownAccel({})));
});
