import test from 'ava';
import { autoEngine, defaultEngine, DEFAULT_ENGINE } from '../../src/engines/default.js';

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
  t.regex(autoEngine({ rootless: false, kernel: '5.10' }).fallback ?? '', /--kernel 5\.10 guest starts in about a minute/);
  const here = autoEngine({ rootless: false });
  t.true(here.engine === 'emulated' ? /cached|busybox/.test(here.fallback ?? '') : ['20.10', '26.1'].includes(here.engine), JSON.stringify(here));
});
