/** Which sysctls a lab file may set, per provider: on netns only those that stay inside the lab's namespaces. */
import { NETNS_SYSCTLS } from './sysctls-netns.js';

export const SYSCTL_PROVIDERS = ['netns', 'ssh', 'vagrant'] as const;
export type SysctlProvider = (typeof SYSCTL_PROVIDERS)[number];

const IFACE_PART = /^[A-Za-z0-9_-]{1,15}$/;

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

/** Why `key` may not be set with this provider, or undefined when it may. */
export function sysctlRefusal(key: string, provider: SysctlProvider): string | undefined {
  if (provider === 'vagrant') return undefined; // the VMs are the lab's own machines
  if (provider === 'ssh') {
    if (key.startsWith('net.')) return undefined;
    return `${key} is not a network setting; on ssh hosts a lab may set net.* sysctls only (the hosts are shared with their owner)`;
  }
  if (isPerNetns(key)) return undefined;
  const why = key.startsWith('net.')
    ? `${key} is not per network namespace (the kernel keeps it global, or it is read-only inside a namespace)`
    : `${key} is not a network setting: it is global to the kernel`;
  const allowed = 'per-namespace sysctls (net.ipv4.*, net.ipv6.*, net.netfilter.*, part of net.core.*)';
  return `${why}, so setting it from a lab's namespace would change the whole machine; on netns a lab may set only ${allowed}, or use --provider vagrant`;
}

export function sysctlProviderOf(providerName: string): SysctlProvider {
  return (SYSCTL_PROVIDERS as readonly string[]).includes(providerName) ? (providerName as SysctlProvider) : 'netns';
}
