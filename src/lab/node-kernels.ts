/**
 * A kernel per node. A lab file may give a node its own kernel (`kernel: "5.10"`), the command line may set every node's
 * (`--kernel 5.10`) or one node's (`--kernel client=5.10`). Once applied, a lab on one kernel has it as `lab.kernel` and no
 * node carries its own; a lab whose nodes differ has `kernel` on each node that names one, and no `lab.kernel`.
 * A provider that runs every node on one kernel refuses the second kind (assertKernelsFit).
 */
import { LabError } from '../errors.js';
import { SUITES, seriesNamed } from './kernel-series.js';
import { NODE_NAME } from './names.js';
import type { ResolvedLab, ResolvedNode } from './model.js';

const SERIES = SUITES.map((s) => s.series);
const known = SUITES.map((s) => `${s.series} (${s.suite})`).join(', ');

/** What is wrong with a lab file's `kernel:` of a node, or undefined. A number is what YAML made of an unquoted value. */
export function nodeKernelProblem(value: string | number): string | undefined {
  if (typeof value === 'number') {
    const meant = SERIES.find((s) => Number(s) === value && s !== String(value));
    if (meant) return `a kernel series as text: YAML reads an unquoted ${meant} as the number ${value}, write kernel: "${meant}"`;
    value = String(value);
  }
  return SERIES.includes(value) ? undefined : `a kernel series (lab kernels): ${known}`;
}

/** One run's kernels from the command line: every node's (a series, or host for this machine's) and single nodes'. */
export interface KernelChoice {
  lab?: string;
  nodes: Record<string, string>;
}

/**
 * `--kernel` values, each a comma-separated list: "5.10,host" (every node, one run per kernel), "router=5.10,6.1"
 * (router's kernel, one run per kernel), or both in one value ("5.10,client=6.1"). Several values and several nodes
 * multiply: `--kernel router=5.10,6.1 --kernel client=6.1` is two runs, client on 6.1 in both. Undefined: one run as the
 * lab file says.
 */
export function parseKernelChoices(values: string | readonly string[] | undefined): KernelChoice[] {
  if (values === undefined) return [{ nodes: {} }];
  const items = (typeof values === 'string' ? [values] : values).flatMap((v) => v.split(',')).map((s) => s.trim());
  const axes = new Map<string | undefined, string[]>(); // undefined: every node
  let current: string | undefined;
  for (const item of items.filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq >= 0) {
      current = item.slice(0, eq).trim();
      if (!NODE_NAME.test(current)) throw new LabError(`--kernel: "${current}" is not a node name`, { hint: 'e.g. --kernel client=5.10' });
      if (axes.has(current)) throw new LabError(`--kernel names node ${current} twice`, { hint: `list its kernels once: --kernel ${current}=5.10,6.1` });
      axes.set(current, []);
    }
    const value = eq >= 0 ? item.slice(eq + 1).trim() : item;
    if (value) axes.set(current, [...(axes.get(current) ?? []), seriesOf(value, current)]);
  }
  if (axes.size === 0 || [...axes.values()].some((v) => v.length === 0))
    throw new LabError('--kernel names no kernel', { hint: 'e.g. --kernel 5.10,host or --kernel client=5.10' });
  let choices: KernelChoice[] = [{ nodes: {} }];
  for (const [node, kernels] of axes) {
    const unique = kernels.filter((k, i) => kernels.indexOf(k) === i);
    choices = choices.flatMap((c) => unique.map((k) => (node === undefined ? { ...c, lab: k } : { ...c, nodes: { ...c.nodes, [node]: k } })));
  }
  return choices;
}

function seriesOf(value: string, node: string | undefined): string {
  const series = seriesNamed(value);
  if (series) return series;
  if (value.toLowerCase() !== 'host') throw new LabError(`"${value}" is not a kernel this tool knows`, { hint: `use host or one of ${known}` });
  if (node === undefined) return 'host';
  throw new LabError(`--kernel ${node}=${value}: a node's own kernel is a Debian series, ${known}`, { hint: 'host is every node at once: --kernel host' });
}

/** What a lab's id carries for a choice ("5-10", "client-6-1", "5-10@client-6-1"); undefined for the lab file's own kernels. */
export function kernelTag(choice: KernelChoice | undefined): string | undefined {
  if (!choice) return undefined;
  const key = (series: string) => series.replace('.', '-'); // as labId writes --kernel 5.10: "5-10"
  const named = Object.keys(choice.nodes).length > 0;
  // host alone is this machine's kernel, the id without a tag; beside a node's, it overrides the lab file's other kernels.
  const parts = [
    ...(choice.lab && (choice.lab !== 'host' || named) ? [key(choice.lab)] : []),
    ...Object.keys(choice.nodes)
      .sort()
      .map((node) => `${node}-${key(choice.nodes[node]!)}`),
  ];
  return parts.length ? parts.join('@') : undefined;
}

/** A choice in `--kernel` form ("5.10,client=6.1"), for the commands a user is shown; empty for the lab file's own. */
export function kernelChoiceText(choice: KernelChoice): string {
  return [...(choice.lab ? [choice.lab] : []), ...Object.entries(choice.nodes).map(([n, k]) => `${n}=${k}`)].join(',');
}

/** The hosts and routers: each is a machine with a kernel; a container runs on its host's. */
function machines(lab: ResolvedLab): ResolvedNode[] {
  return lab.nodes.filter((n) => n.kind !== 'container');
}

/**
 * The lab with the command line's kernels applied over the lab file's: each node's kernel is its `--kernel node=`, else
 * `--kernel`'s, else its own `kernel:`. The same kernel on every node becomes `lab.kernel`.
 */
export function applyKernels(lab: ResolvedLab, choice: KernelChoice = { nodes: {} }): ResolvedLab {
  const names = machines(lab).map((n) => n.name);
  for (const node of Object.keys(choice.nodes)) {
    if (names.includes(node)) continue;
    const container = lab.nodes.find((n) => n.name === node && n.kind === 'container');
    throw new LabError(
      container ? `--kernel ${node}=...: ${node} is a container; it runs on its host's kernel` : `--kernel ${node}=...: ${lab.name} has no node ${node}`,
      { hint: container ? `give its host a kernel: --kernel ${container.host}=${choice.nodes[node]}` : `its hosts and routers: ${names.join(', ')}` },
    );
  }
  const whole = choice.lab === 'host' ? undefined : choice.lab;
  const effective = new Map(machines(lab).map((n) => [n.name, choice.nodes[n.name] ?? (choice.lab ? whole : n.kernel)]));
  const kernels = new Set(effective.values());
  const one = kernels.size === 1 ? [...kernels][0] : undefined;
  const nodes = lab.nodes.map(({ kernel: _own, ...node }): ResolvedNode => {
    const kernel = kernels.size > 1 ? effective.get(node.name) : undefined;
    return kernel ? { ...node, kernel } : node;
  });
  const { kernel: _lab, ...rest } = lab;
  return { ...rest, ...(one ? { kernel: one } : {}), nodes };
}

/** The kernel a node runs: its own, else the lab's; undefined is this machine's (or, for a provider of guests, its default). */
export function nodeKernel(lab: ResolvedLab, node: string): string | undefined {
  const found = lab.nodes.find((n) => n.name === node);
  const machine = found?.kind === 'container' ? lab.nodes.find((n) => n.name === found.host) : found;
  return machine?.kernel ?? lab.kernel;
}

/** Each host's and router's kernel when they differ ("this machine's" for one that names none); undefined on one kernel. */
export function differingKernels(lab: ResolvedLab): Record<string, string> | undefined {
  if (!lab.nodes.some((n) => n.kernel)) return undefined;
  return Object.fromEntries(machines(lab).map((n) => [n.name, n.kernel ?? "this machine's"]));
}

/** What a provider says of itself that decides which kernels it can give (its descriptor's name and capabilities). */
export interface KernelAbility {
  name: string;
  capabilities: { otherKernels: boolean; kernelPerNode: boolean };
}

/**
 * Refuses a lab whose kernels the provider cannot give: nodes on differing kernels on a provider that runs every node on
 * one (netns, ssh, vagrant), or a kernel other than this machine's on one that cannot boot another at all.
 */
export function assertKernelsFit(lab: ResolvedLab, provider: KernelAbility, all: readonly KernelAbility[] = []): void {
  if (provider.capabilities.kernelPerNode) return;
  const differing = differingKernels(lab);
  const can = all.filter((p) => p.capabilities.kernelPerNode).map((p) => p.name);
  if (differing) {
    const listed = Object.entries(differing)
      .map(([n, k]) => `${n} ${k}`)
      .join(', ');
    throw new LabError(`the ${provider.name} provider runs every node of ${lab.name} on one kernel, and its nodes ask for different ones: ${listed}`, {
      hint: `${can.length ? `use --provider ${can.join(' or ')}, or ` : ''}give every node one kernel, e.g. --kernel ${Object.values(differing).find((k) => SERIES.includes(k)) ?? '6.1'}`,
    });
  }
  if (lab.kernel && !provider.capabilities.otherKernels) {
    const others = all.filter((p) => p.capabilities.otherKernels || p.capabilities.kernelPerNode).map((p) => p.name);
    throw new LabError(`the ${provider.name} provider runs ${lab.name} on the kernels its machines have, not on ${lab.kernel}`, {
      hint: `${others.length ? `use --provider ${others.join(' or ')}, or ` : ''}leave out --kernel and the nodes' kernel: in the lab file`,
    });
  }
}
