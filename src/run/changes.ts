/** A variant's changes (sysctls, firewall rules) applied to a live lab and reverted afterwards. */
import type { Change } from '../lab/schema.js';
import type { Transport } from '../transport/types.js';

export interface AppliedChange {
  node: string;
  description: string;
  revert: () => Promise<void>;
}

export async function applyChange(t: Transport, change: Change): Promise<AppliedChange> {
  if ('sysctl' in change) {
    const { key, value } = change.sysctl;
    const before = (await t.exec(['sysctl', '-n', key])).stdout.trim();
    await t.exec(['sysctl', '-qw', `${key}=${value}`]);
    return {
      node: change.node,
      description: `sysctl ${key}=${value} (was ${before})`,
      revert: async () => void (await t.exec(['sysctl', '-qw', `${key}=${before}`])),
    };
  }
  const { table, chain, position, rule } = change.iptables;
  const spec = rule.trim().split(/\s+/);
  const insert = position === undefined ? ['-A', chain] : ['-I', chain, String(position)];
  await t.exec(['iptables', '-t', table, ...insert, ...spec]);
  return {
    node: change.node,
    description: `iptables -t ${table} ${insert.join(' ')} ${spec.join(' ')}`,
    revert: async () => void (await t.exec(['iptables', '-t', table, '-D', chain, ...spec])),
  };
}
