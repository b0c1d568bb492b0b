/**
 * The sysctl policy against the running kernel: every net.bridge.* key it lets a netns lab set is per network namespace
 * here. Each is written in a namespace of the test's own to the opposite of the root namespace's value; the root's
 * must not move (nothing is written there, so nothing is restored).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { NETNS_SYSCTLS } from '../../src/lab/sysctls-netns.js';
import { bridgeSysctlsPerNetns, sysctlRefusal } from '../../src/lab/sysctl-policy.js';
import { cannotRunHere, testUnless } from '../helpers/e2e.js';

const ns = 'lab.bridge-sysctls-real+t.n1';
const inNs = (...argv: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' }).trim();
const keys = (NETNS_SYSCTLS['net.bridge.'] ?? []).map((name) => `net.bridge.${name}`);
const rootValue = (key: string) => fs.readFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, 'utf8').trim();

function whyNot(): string | undefined {
  const base = cannotRunHere();
  if (base) return base;
  if (!fs.existsSync('/proc/sys/net/bridge')) return 'br_netfilter is not loaded on this machine (the policy test needs its sysctls)';
  if (bridgeSysctlsPerNetns(os.release()) === false) return `kernel ${os.release()} keeps net.bridge.* global (before 5.3)`;
  return undefined;
}

testUnless(whyNot(), 'net.bridge.* keys the netns policy allows are per namespace on this kernel', (t) => {
  t.true(keys.includes('net.bridge.bridge-nf-call-iptables'));
  const before = Object.fromEntries(keys.map((k) => [k, rootValue(k)]));
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    for (const key of keys) {
      t.is(sysctlRefusal(key, 'namespace'), undefined, key);
      const flipped = before[key] === '1' ? '0' : '1';
      inNs('sysctl', '-qw', `${key}=${flipped}`);
      t.is(inNs('sysctl', '-n', key), flipped, `${key} written in the namespace`);
      t.is(rootValue(key), before[key]!, `${key} unchanged in the root namespace`);
    }
  } finally {
    execFileSync('ip', ['netns', 'delete', ns]);
  }
});
