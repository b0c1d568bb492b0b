/** Cross-reference checks on a lab file that parsed: every problem is collected, none stops the others. */
import { settingsOf, type Change, type LabFile, type Overrides } from './schema.js';
import type { SettingsDeclarations } from './provider-settings.js';
import { contains, hostAddress, overlaps, parseCidr, parseIp, formatCidr, type Cidr } from './ip.js';
import type { Problem } from './problems.js';
import type { ScenarioCatalogue } from './scenario-catalogue.js';
import { problemsFromZod } from './zod-problems.js';
import { sysctlRefusal, type SysctlScope } from './sysctl-policy.js';

import { DECLARED_KIND } from './declared/spec.js';
import { validateDeclared } from './declared/validate.js';
import { parseCodedVerdict } from './declared/parse.js';
import { expandVariants } from './combinations.js';
import { expectationProblems, kernelSelectorNodes, type Expectation } from './expect.js';
import { overrideProblems } from './validate-overrides.js';

/** Written by the docker-host profile from docker.bridgeNetfilter: a node's own sysctls would race it. */
const BRIDGE_NF_KEY = 'net.bridge.bridge-nf-call-iptables';

/**
 * Without a catalogue, the topology is checked and the scenario's kind and parameters are not; sysctls as netns allows
 * them by default; each provider's section the file has by that provider's own cross-checks.
 */
export function validateLab(lab: LabFile, options: { catalogue?: ScenarioCatalogue; sysctls?: SysctlScope; settings?: SettingsDeclarations } = {}): Problem[] {
  const { catalogue, sysctls = 'namespace' } = options;
  const problems: Problem[] = [];
  const nodeNames = new Set(Object.keys(lab.nodes));
  const containerOwner = new Map<string, string>();

  for (const [name, node] of Object.entries(lab.nodes)) {
    const dockerish = node.profile === 'docker-host' || node.profile === 'docker-desktop-wsl2';
    if (!dockerish && node.containers) {
      problems.push({ path: ['nodes', name, 'containers'], message: 'containers need profile "docker-host" or "docker-desktop-wsl2"' });
    }
    if (!dockerish && node.docker) {
      problems.push({ path: ['nodes', name, 'docker'], message: 'docker settings need profile "docker-host" or "docker-desktop-wsl2"' });
    }
    if (node.profile !== 'docker-desktop-wsl2' && node.wsl) {
      problems.push({ path: ['nodes', name, 'wsl'], message: 'wsl settings need profile "docker-desktop-wsl2"' });
    }
    if (node.profile === 'docker-desktop-wsl2' && name.length > 9) {
      problems.push({ path: ['nodes', name], message: `a docker-desktop-wsl2 node's name has at most 9 characters (its VM is named ${name}-vm)` });
    }
    if (node.role === 'router' && dockerish) {
      problems.push({ path: ['nodes', name, 'profile'], message: `a router cannot have profile "${node.profile}"; use role "host"` });
    }
    node.docker?.publish.forEach((p, i) => {
      if (!node.containers?.[p.container])
        problems.push({
          path: ['nodes', name, 'docker', 'publish', i, 'container'],
          message: `found "${p.container}", expected a container of ${name}: ${Object.keys(node.containers ?? {}).join(', ') || '(none)'}`,
        });
    });
    if (node.profile === 'docker-host' && node.sysctls?.[BRIDGE_NF_KEY] !== undefined) {
      problems.push({
        path: ['nodes', name, 'sysctls', BRIDGE_NF_KEY],
        message: `on a Docker host this is docker.bridgeNetfilter (true or false; absent, the kernel's own setting); set that instead`,
      });
    }
    const published = new Set<string>();
    node.docker?.publish.forEach((p, i) => {
      const key = `${p.hostIp}:${p.hostPort}/${p.proto}`;
      if (published.has(key)) problems.push({ path: ['nodes', name, 'docker', 'publish', i], message: `${key} is published twice` });
      published.add(key);
    });
    for (const cname of Object.keys(node.containers ?? {})) {
      if (nodeNames.has(cname) || containerOwner.has(cname)) {
        problems.push({ path: ['nodes', name, 'containers', cname], message: `name "${cname}" is already used by another node or container` });
      }
      containerOwner.set(cname, name);
    }
  }

  const subnets: Array<{ cidr: Cidr; path: Array<string | number> }> = [];
  const linked = new Set<string>();
  const linkNames = new Set<string>();
  lab.links.forEach((link, i) => {
    const [a, b] = link.endpoints;
    if (link.name && linkNames.has(link.name)) problems.push({ path: ['links', i, 'name'], message: `link name "${link.name}" is used by another link` });
    if (link.name) linkNames.add(link.name);
    for (const [j, end] of [a, b].entries()) {
      if (!nodeNames.has(end)) {
        const hint = containerOwner.has(end) ? ` ("${end}" is a container of ${containerOwner.get(end)}; link its host instead)` : '';
        problems.push({ path: ['links', i, 'endpoints', j], message: `found "${end}", expected one of the lab's nodes: ${[...nodeNames].join(', ')}${hint}` });
      }
      linked.add(end);
    }
    const shaped = new Set<string>();
    (link.impairment ?? []).forEach((imp, j) => {
      for (const end of imp.from ? [imp.from] : [a, b]) {
        if (shaped.has(end))
          problems.push({
            path: ['links', i, 'impairment', j],
            message: `traffic leaving "${end}" on this link is impaired twice; give each direction one entry`,
          });
        shaped.add(end);
      }
      if (imp.from && imp.from !== a && imp.from !== b)
        problems.push({ path: ['links', i, 'impairment', j, 'from'], message: `found "${imp.from}", expected an endpoint of this link (${a}, ${b})` });
    });
    if (a === b) problems.push({ path: ['links', i, 'endpoints'], message: `a link joins two different nodes; found "${a}" twice` });
    if (link.mtu && typeof link.mtu === 'object')
      for (const node of Object.keys(link.mtu))
        if (node !== a && node !== b)
          problems.push({ path: ['links', i, 'mtu', node], message: `found "${node}", expected an endpoint of this link (${a}, ${b})` });
    if (link.subnet) {
      const cidr = parseCidr(link.subnet)!;
      subnets.push({ cidr, path: ['links', i, 'subnet'] });
      const seen = new Set<number>();
      for (const [node, addr] of Object.entries(link.addresses ?? {})) {
        const ip = parseIp(addr)!;
        if (node !== a && node !== b)
          problems.push({ path: ['links', i, 'addresses', node], message: `"${node}" is not an endpoint of this link (${a}, ${b})` });
        if (!contains(cidr, ip) || ip === cidr.network || ip === cidr.network + 2 ** (32 - cidr.prefix) - 1) {
          problems.push({ path: ['links', i, 'addresses', node], message: `found ${addr}, expected a host address inside ${link.subnet}` });
        }
        if (seen.has(ip)) problems.push({ path: ['links', i, 'addresses', node], message: `address ${addr} is used twice on this link` });
        seen.add(ip);
      }
    } else if (link.addresses) {
      problems.push({ path: ['links', i, 'addresses'], message: 'explicit addresses need an explicit subnet on the link' });
    }
  });

  for (const [name, node] of Object.entries(lab.nodes)) {
    if (!linked.has(name) && nodeNames.size > 1 && node.profile !== 'docker-desktop-wsl2')
      problems.push({ path: ['nodes', name], message: 'node has no link; every node must be on at least one link' });
    if (node.profile === 'docker-host' || node.profile === 'docker-desktop-wsl2') {
      const subnet = node.docker?.subnet ?? '172.17.0.0/16';
      const cidr = parseCidr(subnet)!;
      for (const [cname, c] of Object.entries(node.containers ?? {})) {
        if (c.address) {
          const ip = parseIp(c.address)!;
          if (!contains(cidr, ip) || ip === cidr.network || ip === hostAddress(cidr, 1)) {
            problems.push({
              path: ['nodes', name, 'containers', cname, 'address'],
              message: `found ${c.address}, expected an address inside ${subnet} other than the bridge's ${formatCidr(cidr).replace(/\.0\//, '.1/')}`,
            });
          }
        }
      }
    }
  }

  for (let i = 0; i < subnets.length; i++) {
    for (let j = i + 1; j < subnets.length; j++) {
      if (overlaps(subnets[i]!.cidr, subnets[j]!.cidr)) {
        const [mine, theirs] = [subnets[j]!, subnets[i]!];
        const where = `${theirs.path.slice(0, 2).join('[')}]`;
        problems.push({ path: mine.path, message: `subnet ${formatCidr(mine.cidr)} overlaps ${formatCidr(theirs.cidr)} of ${where}` });
      }
    }
  }

  problems.push(...bridgeOverlaps(lab, subnets), ...sysctlProblems(lab, sysctls));

  const allNames = new Set([...nodeNames, ...containerOwner.keys()]);
  for (const { path, changes } of variantLikes(lab)) {
    changes.forEach((change, i) => {
      if (!allNames.has(change.node)) {
        problems.push({
          path: [...path, 'changes', i, 'node'],
          message: `found "${change.node}", expected a node or container of this lab: ${[...allNames].join(', ')}`,
        });
      }
    });
  }
  const sets = variantLikes(lab).flatMap(({ path, set }) => (set ? [{ path, set }] : []));
  problems.push(...overrideProblems(lab, sets, (topology) => validateLab(topology, { sysctls })));
  problems.push(...expandVariants(lab).problems);
  const kernelNodes = (entries: readonly Expectation[], path: Array<string | number>) =>
    entries.flatMap((entry, i) =>
      kernelSelectorNodes(entry.kernel).flatMap((node): Problem[] => {
        if (nodeNames.has(node)) return [];
        const host = containerOwner.get(node);
        const message = host
          ? `found container "${node}", which runs on its host's kernel: name its host, ${host}`
          : `found "${node}", expected a host or router of this lab: ${[...nodeNames].join(', ')}`;
        return [{ path: [...path, i, 'kernel', node], message }];
      }),
    );
  for (const [vname, variant] of Object.entries(lab.variants)) {
    problems.push(...expectationProblems(variant.expect).map((p) => ({ path: ['variants', vname, 'expect', p.index, p.field], message: p.message })));
    problems.push(...kernelNodes(variant.expect, ['variants', vname, 'expect']));
  }
  lab.combinations.forEach((combination, c) => {
    for (const [vname, entries] of Object.entries(combination.expect)) {
      problems.push(...expectationProblems(entries).map((p) => ({ path: ['combinations', c, 'expect', vname, p.index, p.field], message: p.message })));
      problems.push(...kernelNodes(entries, ['combinations', c, 'expect', vname]));
    }
  });

  problems.push(...sectionProblems(lab, options.settings ?? {}));

  if (catalogue) problems.push(...validateScenario(lab, allNames, catalogue));
  return problems;
}

/** A provider's cross-checks of its section, on the section as its schema parsed it. */
function sectionProblems(lab: LabFile, declarations: SettingsDeclarations): Problem[] {
  return Object.entries(settingsOf(declarations)).flatMap(([name, section]) => {
    const value = lab.settings?.[name];
    const parsed = value === undefined || !section.check ? undefined : section.schema.safeParse(value);
    if (!parsed?.success) return [];
    return section.check!(parsed.data, lab).map((p) => ({ ...p, path: [name, ...p.path] }));
  });
}

/** A link subnet inside a node's Docker bridge or WSL switch subnet is routed to the bridge: traffic to it silently goes astray. */
function bridgeOverlaps(lab: LabFile, links: Array<{ cidr: Cidr; path: Array<string | number> }>): Problem[] {
  const problems: Problem[] = [];
  for (const [name, node] of Object.entries(lab.nodes)) {
    const inner: Array<{ what: string; cidr: Cidr | undefined; path: Array<string | number> }> = [];
    if (node.profile === 'docker-host' || node.profile === 'docker-desktop-wsl2') {
      inner.push({ what: 'Docker bridge subnet', cidr: parseCidr(node.docker?.subnet ?? '172.17.0.0/16'), path: ['nodes', name, 'docker', 'subnet'] });
    }
    if (node.profile === 'docker-desktop-wsl2') {
      inner.push({ what: 'WSL switch subnet', cidr: parseCidr(node.wsl?.subnet ?? '172.22.16.0/24'), path: ['nodes', name, 'wsl', 'subnet'] });
    }
    for (const own of inner) {
      if (!own.cidr) continue;
      for (const link of links) {
        if (overlaps(link.cidr, own.cidr)) {
          const message = `subnet ${formatCidr(link.cidr)} overlaps the ${own.what} ${formatCidr(own.cidr)} of node ${name}`;
          problems.push({ path: link.path, message: `${message}; routes to it would go to the bridge; give one of them another range` });
        }
      }
    }
    const [a, b] = inner;
    if (a?.cidr && b?.cidr && overlaps(a.cidr, b.cidr)) {
      problems.push({ path: b.path, message: `the ${b.what} ${formatCidr(b.cidr)} overlaps the ${a.what} ${formatCidr(a.cidr)}` });
    }
  }
  return problems;
}

function sysctlProblems(lab: LabFile, scope: SysctlScope): Problem[] {
  const problems: Problem[] = [];
  for (const [name, node] of Object.entries(lab.nodes)) {
    for (const key of Object.keys(node.sysctls ?? {})) {
      const refusal = sysctlRefusal(key, scope);
      if (refusal) problems.push({ path: ['nodes', name, 'sysctls', key], message: refusal });
    }
  }
  for (const { path, changes } of variantLikes(lab)) {
    changes.forEach((change, i) => {
      const refusal = 'sysctl' in change ? sysctlRefusal(change.sysctl.key, scope) : undefined;
      if (refusal) problems.push({ path: [...path, 'changes', i, 'sysctl', 'key'], message: refusal });
    });
  }
  return problems;
}

function validateScenario(lab: LabFile, allNames: Set<string>, catalogue: ScenarioCatalogue): Problem[] {
  if (lab.scenario.kind === DECLARED_KIND && isDeclared(lab.scenario.params)) return validateDeclared(lab, [...allNames]);
  const scenario = catalogue.find(lab.scenario.kind);
  if (!scenario || lab.scenario.kind === DECLARED_KIND) {
    const kinds = catalogue.kinds().filter((k) => k !== DECLARED_KIND);
    return [{ path: ['scenario', 'kind'], message: `found "${lab.scenario.kind}", expected one of the scenario kinds: ${kinds.join(', ')}` }];
  }
  const problems: Problem[] = [];
  // A variant's params are checked merged over the scenario's, but only the keys it sets are reported there.
  const check = (params: Record<string, unknown>, base: Array<string | number>, own?: Set<string>) => {
    const mine = (key: string | number | undefined) => !own || (typeof key === 'string' && own.has(key));
    const parsed = scenario.params.safeParse(params, { jitless: true });
    if (!parsed.success) {
      problems.push(...problemsFromZod(scenario.params, parsed.error.issues, params, base).filter((p) => mine(p.path[base.length])));
      return;
    }
    for (const ref of scenario.nodeRefs(parsed.data)) {
      if (!allNames.has(ref.node) && mine(ref.param))
        problems.push({ path: [...base, ref.param], message: `found "${ref.node}", expected a node or container of this lab: ${[...allNames].join(', ')}` });
    }
  };
  if ('verdict' in lab.scenario && lab.scenario.verdict !== undefined) {
    const names = Object.keys(scenario.rules?.measures ?? {});
    if (!scenario.rules)
      problems.push({
        path: ['scenario', 'verdict'],
        message: `scenario ${lab.scenario.kind} computes no measures, so its verdict is its judge's: remove verdict`,
      });
    else problems.push(...parseCodedVerdict(lab.scenario.verdict, names).problems);
  }
  check(lab.scenario.params, ['scenario', 'params']);
  for (const { path, params } of variantLikes(lab)) {
    const own = new Set(Object.keys(params));
    if (own.size > 0) check({ ...lab.scenario.params, ...params }, [...path, 'params'], own);
  }
  return problems;
}

function isDeclared(params: Record<string, unknown>): boolean {
  const d = params[DECLARED_KIND] as { steps?: unknown } | undefined;
  return typeof d === 'object' && d !== null && Array.isArray(d.steps);
}

/** Listed variants and the axis values of combinations: everything that carries changes and params. */
function variantLikes(lab: LabFile): Array<{ path: Array<string | number>; set?: Overrides | undefined; changes: Change[]; params: Record<string, unknown> }> {
  const listed = Object.entries(lab.variants).map(([name, v]) => ({
    path: ['variants', name] as Array<string | number>,
    set: v.set,
    changes: v.changes,
    params: v.params,
  }));
  const values = lab.combinations.flatMap((combination, c) =>
    Object.entries(combination.axes).flatMap(([axis, axisValues]) =>
      Object.entries(axisValues).map(([value, v]) => ({
        path: ['combinations', c, 'axes', axis, value] as Array<string | number>,
        set: v.set,
        changes: v.changes,
        params: v.params,
      })),
    ),
  );
  return [...listed, ...values];
}
