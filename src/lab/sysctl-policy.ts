/**
 * Which sysctls a lab file may set, by scope: each provider's descriptor says which scope its nodes have (netns: only
 * keys that stay inside the lab's namespaces; ssh: net.* on hosts shared with their owner; vagrant: the VMs are the
 * lab's own, any key). The lab layer knows scopes, never provider names.
 */
import os from 'node:os';
import { NETNS_SYSCTLS } from './sysctls-netns.js';

export const SYSCTL_SCOPES = ['namespace', 'net', 'any'] as const;
export type SysctlScope = (typeof SYSCTL_SCOPES)[number];

const IFACE_PART = /^[A-Za-z0-9_-]{1,15}$/;

/**
 * br_netfilter's sysctls became per network namespace in Linux 5.3 (commit 22567590b2e6, "netfilter: bridge:
 * namespace bridge netfilter sysctls"); before, /proc/sys/net/bridge existed in the root namespace only.
 */
export const BRIDGE_SYSCTLS_PER_NETNS_SINCE: readonly [number, number] = [5, 3];

export function isPerNetns(key: string): boolean {
  for (const [prefix, names] of Object.entries(NETNS_SYSCTLS)) {
    const [head, tail] = prefix.split('*.') as [string, string | undefined];
    if (!key.startsWith(head)) continue;
    if (tail === undefined) {
      if (names.includes(key.slice(head.length))) return true;
      continue;
    }
    const rest = key.slice(head.length);
    const dot = rest.indexOf('.');
    if (dot > 0 && IFACE_PART.test(rest.slice(0, dot)) && names.includes(rest.slice(dot + 1))) return true;
  }
  return false;
}

/** Whether a kernel release (uname -r, e.g. 6.18.44-fc) keeps net.bridge.* per namespace; unknown when it does not parse. */
export function bridgeSysctlsPerNetns(release: string): boolean | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return undefined;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  const [sinceMajor, sinceMinor] = BRIDGE_SYSCTLS_PER_NETNS_SINCE;
  return major > sinceMajor || (major === sinceMajor && minor >= sinceMinor);
}

/**
 * Why `key` may not be set with this provider, or undefined when it may. A netns lab runs on this machine's kernel
 * (`kernelRelease`, by default os.release()), or on a --kernel guest, all of which (5.10 and later) keep net.bridge.*
 * per namespace; so only this machine's release decides, and a machine before 5.3 refuses them even for a guest.
 */
export function sysctlRefusal(key: string, scope: SysctlScope, kernelRelease: string = os.release()): string | undefined {
  if (scope === 'any') return undefined; // the VMs are the lab's own machines
  if (scope === 'net') {
    if (key.startsWith('net.')) return undefined;
    return `${key} is not a network setting; on ssh hosts a lab may set net.* sysctls only (the hosts are shared with their owner)`;
  }
  if (isPerNetns(key) && key.startsWith('net.bridge.') && bridgeSysctlsPerNetns(kernelRelease) === false) {
    const since = BRIDGE_SYSCTLS_PER_NETNS_SINCE.join('.');
    return `${key} is per network namespace only from Linux ${since} (commit 22567590b2e6, "netfilter: bridge: namespace bridge netfilter sysctls"); this machine runs ${kernelRelease}, where it exists in the root namespace only, so a lab's namespace cannot set it; use --provider vagrant`;
  }
  if (isPerNetns(key)) return undefined;
  const why = key.startsWith('net.')
    ? `${key} is not per network namespace (the kernel keeps it global, or it is read-only inside a namespace)`
    : `${key} is not a network setting: it is global to the kernel`;
  const allowed = 'per-namespace sysctls (net.ipv4.*, net.ipv6.*, net.netfilter.*, net.bridge.bridge-nf-*, part of net.core.*)';
  return `${why}, so setting it from a lab's namespace would change the whole machine; on netns a lab may set only ${allowed}, or use --provider vagrant`;
}
