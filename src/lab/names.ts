/**
 * Every name or value from a lab file that ends up in a command line, a file name or a
 * Vagrantfile is checked against one of these patterns first.
 */
export const LAB_NAME = /^[a-z][a-z0-9-]{0,30}$/;
export const NODE_NAME = /^[a-z][a-z0-9-]{0,11}$/;
export const VARIANT_NAME = /^[a-z][a-z0-9-]{0,31}$/;
export const INSTANCE_NAME = /^[a-z0-9][a-z0-9-]{0,15}$/;
export const IFACE_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,14}$/;
export const SYSCTL_KEY = /^[a-z0-9_]+(\.[a-z0-9_-]+)+$/;
export const SYSCTL_VALUE = /^[A-Za-z0-9 _.-]{1,64}$/;
export const CHAIN_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,28}$/;
/** One token of an iptables rule: options, addresses, ports, states, chain targets. No shell metacharacters. */
export const IPTABLES_TOKEN = /^(!|[A-Za-z0-9_.:/,+=-]{1,64})$/;

export const nameRules = {
  lab: 'lowercase letters, digits and "-", starting with a letter, at most 31 characters',
  node: 'lowercase letters, digits and "-", starting with a letter, at most 12 characters',
  variant: 'lowercase letters, digits and "-", starting with a letter, at most 32 characters',
} as const;

/** How a user names a lab on the command line: "docker-1090", or "docker-1090 --instance g1" for a copy. */
export function labRef(lab: { name: string; instance?: string; kernelArg?: string }): string {
  return `${lab.name}${lab.instance ? ` --instance ${lab.instance}` : ''}${lab.kernelArg ? ` --kernel ${lab.kernelArg}` : ''}`;
}
