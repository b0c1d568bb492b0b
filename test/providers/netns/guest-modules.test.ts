/**
 * A --kernel guest loads br_netfilter when the lab writes bridge filtering's sysctls (docker.bridgeNetfilter, on or off),
 * as dockerd would on its own machine; labs that do not write them leave the guest's modules as they are.
 */
import test from 'ava';
import path from 'node:path';
import { loadLab } from '../../../src/lab/load.js';
import { needsBridgeNetfilter } from '../../../src/providers/netns/kernel.js';
import { root } from '../../helpers/cli.js';

test('bridge filtering set (hairpin-published-port, on and off) loads br_netfilter in the guest; docker-1090 does not', (t) => {
  const hairpin = loadLab(path.join(root, 'labs', 'hairpin-published-port'));
  t.true(needsBridgeNetfilter(hairpin));
  for (const v of ['hairpin-proxy-on', 'hairpin-proxy-off'])
    t.true(needsBridgeNetfilter(loadLab(path.join(root, 'test', 'fixtures', 'hairpin', `${v}.yaml`))), v);
  t.false(needsBridgeNetfilter(loadLab(path.join(root, 'labs', 'docker-1090'))));
  t.false(needsBridgeNetfilter(loadLab(path.join(root, 'labs', 'large-download'))));
});
