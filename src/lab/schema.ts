/**
 * The lab file's shape. Parsed strictly: an unknown key anywhere is an error. Cross-references
 * (links to nodes, variants to nodes, overlapping subnets) are checked afterwards in validate.ts.
 */
import * as z from 'zod';
import { CHAIN_NAME, IPTABLES_TOKEN, LAB_NAME, NODE_NAME, SYSCTL_KEY, SYSCTL_VALUE, VARIANT_NAME, nameRules } from './names.js';
import { parseCidr, parseIp } from './ip.js';
import { DECLARED_KIND } from './declared/spec.js';
import type { ProviderSettings, SettingsDeclarations, SettingsKit } from './provider-settings.js';
import { nodeKernelProblem } from './node-kernels.js';
import { overrideOf } from './override-schema.js';
import { EXPECTABLE_INCONCLUSIVE, VERDICTS_EXPECTED, dockerRule, parseDockerSelector, parseKernelRange, rangeRule } from './expect.js';

const labName = z.string().regex(LAB_NAME, `a lab name: ${nameRules.lab}`);
const nodeName = z.string().regex(NODE_NAME, `a node name: ${nameRules.node}`);
const ipv4 = z.string().refine((s) => parseIp(s) !== undefined, 'an IPv4 address such as 10.0.1.2 (no leading zeros)');
const cidr = z.string().refine((s) => parseCidr(s) !== undefined, 'an IPv4 subnet such as 10.0.1.0/24 (prefix 8 to 30, no host bits set, no leading zeros)');
const text = z.string().min(1).max(4000);

const sysctlValue = z
  .union([z.string(), z.number()])
  .transform(String)
  .refine((s) => SYSCTL_VALUE.test(s), 'a sysctl value (letters, digits, " ", "_", ".", "-")');

export const sysctlsSchema = z.record(z.string().regex(SYSCTL_KEY, 'a sysctl key such as net.ipv4.ip_forward'), sysctlValue);

const iptablesRule = z.string().refine(
  (s) =>
    s
      .trim()
      .split(/\s+/)
      .every((t) => IPTABLES_TOKEN.test(t)),
  'iptables match and target options separated by spaces, without shell characters',
);

export const changeSchema = z.union([
  z.strictObject({
    node: nodeName,
    sysctl: z.strictObject({ key: z.string().regex(SYSCTL_KEY, 'a sysctl key such as net.ipv4.ip_forward'), value: sysctlValue }),
  }),
  z.strictObject({
    node: nodeName,
    iptables: z.strictObject({
      table: z.enum(['filter', 'nat', 'mangle', 'raw']).default('filter'),
      chain: z.string().regex(CHAIN_NAME, 'an iptables chain name'),
      position: z.number().int().min(1).max(1000).optional(),
      rule: iptablesRule,
    }),
  }),
]);

const containerSchema = z.strictObject({
  address: ipv4.optional(),
  description: text.optional(),
});

const port = z.number().int().min(1).max(65535);

/** `docker run -p [hostIp:]hostPort:containerPort/proto`: Docker's DNAT rules, and docker-proxy when userlandProxy is on. */
export const publishSchema = z.strictObject({
  container: nodeName,
  hostPort: port,
  containerPort: port.optional(),
  proto: z.enum(['tcp', 'udp']).default('tcp'),
  hostIp: ipv4.default('0.0.0.0'),
});

const dockerSchema = z.strictObject({
  bridge: z.literal('docker0').default('docker0'),
  subnet: cidr.default('172.17.0.0/16'),
  userlandProxy: z.boolean().default(true),
  /**
   * net.bridge.bridge-nf-call-iptables in the host's namespace: true (1, what dockerd leaves once it has loaded br_netfilter)
   * or false (bridged frames skip iptables). Absent: left as the kernel has it; lab loads no module on the machine.
   */
  bridgeNetfilter: z.boolean().optional(),
  publish: z.array(publishSchema).default([]),
  /** emulated (Docker's rules from a template), or a real dockerd: an engine series (lab engines) or host. */
  engine: z
    .string()
    .regex(/^(emulated|host|[1-9]\d?\.\d{1,2})$/, 'emulated, host or a Docker engine series such as 26.1 (lab engines lists them)')
    .optional(),
});

/**
 * A node's kernel: a series of the kernels catalogue, as text. YAML reads an unquoted 5.10 as the number 5.1; the loader
 * gives back the text as written (load.ts), and a number that reached here anyway is refused with that hint.
 */
const nodeKernel = z
  .union([z.string(), z.number()])
  .superRefine((value, ctx) => {
    const problem = nodeKernelProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((value) => String(value));

export const nodeSchema = z.strictObject({
  role: z.enum(['host', 'router']),
  profile: z.enum(['plain', 'docker-host', 'docker-desktop-wsl2']).default('plain'),
  wsl: z.strictObject({ subnet: cidr.default('172.22.16.0/24') }).optional(),
  description: text.optional(),
  docker: dockerSchema.optional(),
  containers: z.record(nodeName, containerSchema).optional(),
  sysctls: sysctlsSchema.optional(),
  kernel: nodeKernel
    .optional()
    .describe("this node's own kernel, a Debian series: 5.10, 6.1 or 6.12 (lab kernels); absent: the lab's (--kernel, or this machine's)"),
});

/** The largest time tc accepts on every iproute2: netem's 32-bit microsecond fields (about 71 minutes). */
const MAX_TC_US = 4_294_967_295;
const DURATION = /^(0|[1-9]\d{0,9})(\.\d{1,6})?(us|ms|s)$/;
// The bounds are checked only on values of the right form (zod runs every check; the form's own reports the rest).
const usOf = (s: string) => {
  const m = DURATION.exec(s);
  return m ? Number(`${m[1]}${m[2] ?? ''}`) * { us: 1, ms: 1e3, s: 1e6 }[m[3] as 'us' | 'ms' | 's'] : 0;
};
const duration = z
  .string()
  .regex(DURATION, 'a duration such as 5ms, 200us or 1s')
  .refine((s) => usOf(s) <= MAX_TC_US, 'a duration tc accepts: at most 4294s (netem counts microseconds in 32 bits)');
const percent = z
  .string()
  .regex(/^(0|[1-9]\d{0,2})(\.\d{1,6})?%$/, 'a percentage such as 0.5%')
  .refine((s) => Number(s.slice(0, -1)) <= 100, 'a percentage from 0% to 100%');
const RATE = /^([1-9]\d{0,9})(kbit|mbit|gbit)$/;
const rate = z
  .string()
  .regex(RATE, 'a rate such as 100mbit')
  .refine((s) => {
    const m = RATE.exec(s);
    return !m || Number(m[1]) * { kbit: 1e3, mbit: 1e6, gbit: 1e9 }[m[2] as 'kbit' | 'mbit' | 'gbit'] <= 1e12;
  }, 'a rate from 1kbit to 1000gbit');

/** Impairment of the traffic leaving `from` on this link (both directions when `from` is absent). */
export const impairmentSchema = z
  .strictObject({
    from: nodeName.optional(),
    delay: duration.optional(),
    jitter: duration.optional(),
    loss: percent.optional(),
    reorder: percent.optional(),
    rate: rate.optional(),
  })
  .refine((i) => i.delay || i.loss || i.reorder || i.rate, 'at least one of delay, loss, reorder, rate')
  .refine((i) => !i.jitter || i.delay, 'a delay when jitter is given')
  .refine((i) => !i.reorder || i.delay, 'a delay when reorder is given (netem reorders by sending some packets without the delay)');

/** 68 is IPv4's smallest MTU; 65535 the largest a veth or a VM's NIC takes. */
const mtu = z.number().int().min(68, 'an MTU of at least 68 bytes (IPv4 needs 68)').max(65535, 'an MTU of at most 65535 bytes');

const linkName = z.string().regex(NODE_NAME, `a link name: ${nameRules.node}`);

export const linkSchema = z.strictObject({
  name: linkName.optional().describe('a name for the link, by which a variant overrides its settings (set: { links: { <name>: ... } })'),
  endpoints: z.tuple([nodeName, nodeName]),
  subnet: cidr.optional(),
  addresses: z.record(nodeName, ipv4).optional(),
  mtu: z
    .union([mtu, z.record(nodeName, mtu)])
    .optional()
    .describe('the MTU of both ends (1400), or per end ({ router: 1400 }); the kernel default (1500) otherwise'),
  impairment: z.array(impairmentSchema).optional(),
  description: text.optional(),
});

const kernelRange = z.string().refine((s) => typeof parseKernelRange(s) !== 'string', rangeRule);

/** What a variant is expected to give on a range of kernels, why, and where that is shown upstream. */
export const expectationSchema = z
  .strictObject({
    kernel: z
      .union([kernelRange, z.record(nodeName, kernelRange).refine((r) => Object.keys(r).length > 0, 'at least one node')])
      .describe(
        'kernel versions this entry covers: ">=6.1", ">=5.10,<6.1", "6.12" (that series) or "*" for every node\'s kernel; or a range per node, { client: ">=6.1" }, for that node\'s kernel (a host or router of the lab); entries of one variant must not overlap',
      ),
    verdict: z.enum(VERDICTS_EXPECTED).describe('the verdict expected on these kernels; "unknown" when nothing is known (say why)'),
    inconclusive: z
      .enum(EXPECTABLE_INCONCLUSIVE)
      .optional()
      .describe(
        'required with verdict INCONCLUSIVE, and only then: the kind expected. Only "emulation-gap" (the lab cannot run what the report is about); a crash, a time-out or missing evidence never matches an expectation',
      ),
    why: text.describe('the mechanism, in one or two sentences'),
    source: z
      .string()
      .refine((s) => /^https:\/\/\S+$/.test(s) && URL.canParse(s), 'an https URL')
      .describe('an https URL showing it: a kernel commit, an upstream thread, or a run log published upstream'),
    measured: text.optional().describe('optional: the runs it was seen in, e.g. "6.18.44 netns 10/10"'),
    docker: z
      .string()
      .refine((s) => typeof parseDockerSelector(s) !== 'string', dockerRule)
      .optional()
      .describe('optional: the Docker engines this entry covers: "emulated", or a real engine\'s versions (">=23", "20.10"); absent: any'),
  })
  .describe('one expectation of a variant');

/**
 * Node and link settings a variant runs with instead of the lab's: the lab is built again with them, for this variant
 * alone. Each is written as on the node or link itself (the same schema, every field optional); objects merge key by
 * key, lists and values replace the lab's.
 */
export const overridesSchema = z
  .strictObject({
    nodes: z
      .record(nodeName, overrideOf(nodeSchema))
      .optional()
      .describe('node name -> its settings to change, as written under nodes (docker: { userlandProxy: false }, sysctls, ...)'),
    links: z
      .record(linkName, overrideOf(linkSchema.omit({ name: true, endpoints: true })))
      .optional()
      .describe("link name (the link's name:) -> its settings to change, as written on the link (mtu, impairment, ...)"),
  })
  .describe('settings of nodes and links this variant runs with; the lab is brought up again with them for this variant');

export const variantSchema = z.strictObject({
  description: text,
  set: overridesSchema.optional(),
  changes: z.array(changeSchema).default([]),
  params: z.record(z.string(), z.unknown()).default({}),
  expect: z.array(expectationSchema).default([]).describe('expected verdicts by kernel; a kernel no entry covers has no expectation'),
});

/** One value of an axis: what it adds to every variant it is part of. */
export const axisValueSchema = z.strictObject({
  description: text,
  set: overridesSchema.optional(),
  changes: z.array(changeSchema).default([]),
  params: z.record(z.string(), z.unknown()).default({}),
});

const variantNamePart = z.string().regex(VARIANT_NAME, `a part of a variant name: ${nameRules.variant}`);

/**
 * Variants as the product of axes: every value of the first axis with every value of the second, and so on.
 * A resulting variant is named by its values joined with "-" in axis order, its description joins theirs,
 * and its params and changes are the union of theirs (two values setting one param or one sysctl clash).
 */
export const combinationSchema = z
  .strictObject({
    axes: z
      .record(
        variantNamePart,
        z.record(variantNamePart, axisValueSchema).refine((v) => Object.keys(v).length > 0, 'at least one value'),
      )
      .refine((a) => Object.keys(a).length >= 2, 'at least two axes')
      .describe('axis name -> value name -> { description, set, changes, params }; axes multiply in the order written'),
    expect: z
      .record(z.string(), z.array(expectationSchema))
      .default({})
      .describe('resulting variant name (values joined with "-") -> its expectations, as a variant\'s expect'),
  })
  .describe('variants generated as the product of axes');

const codedScenarioSchema = z.strictObject({
  kind: z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, 'a scenario kind'),
  params: z.record(z.string(), z.unknown()).default({}),
  /** Verdict rules over the measures the scenario computes (src/lab/declared/parse.ts, parseCodedVerdict). */
  verdict: z.record(z.string(), z.unknown()).optional(),
});

/**
 * A declared scenario: steps and verdict rules in the lab file. Its steps and rules are checked per
 * variant, after ${placeholders} are substituted (src/lab/declared/parse.ts); here they only need to
 * be there. It becomes the scenario kind "declared" with the raw steps and rules in params.declared.
 */
const declaredScenarioSchema = z
  .strictObject({
    params: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,40}$/, 'a parameter name (letters, digits, "_")'), z.unknown()).default({}),
    steps: z.array(z.unknown()).min(1),
    verdict: z.record(z.string(), z.unknown()),
  })
  .transform((d) => ({ kind: DECLARED_KIND, params: { ...d.params, [DECLARED_KIND]: { steps: d.steps, verdict: d.verdict } } as Record<string, unknown> }));

const labFileShape = {
  name: labName,
  title: text,
  upstream: z.array(z.url()).min(1),
  description: text,
  addressPool: cidr.default('10.100.0.0/16'),
  nodes: z.record(nodeName, nodeSchema).refine((n) => Object.keys(n).length > 0, 'at least one node'),
  links: z.array(linkSchema).default([]),
  scenario: z.union([codedScenarioSchema, declaredScenarioSchema]),
  variants: z.record(z.string().regex(VARIANT_NAME, `a variant name: ${nameRules.variant}`), variantSchema).default({}),
  combinations: z.array(combinationSchema).default([]).describe('variants generated as products of axes, besides those listed under variants'),
};

/** The lab file without any provider's section. */
export const labFileSchema = z.strictObject(labFileShape);

const composed = new WeakMap<SettingsDeclarations, z.ZodType>();

/**
 * The lab file with each provider's own section, optional, under the provider's name, after the lab's own keys: for the
 * JSON schema, and for a file's problems in the order and words the file's keys give them.
 */
export function labFileSchemaWith(declarations: SettingsDeclarations): z.ZodType {
  let schema = composed.get(declarations);
  if (!schema) {
    const sections: Record<string, z.ZodOptional<z.ZodType>> = {};
    for (const [name, s] of Object.entries(settingsOf(declarations))) {
      if (name in labFileShape) throw new Error(`internal: provider ${name} is named like a key of the lab file`);
      sections[name] = s.schema.optional();
    }
    schema = labFileSchema.extend(sections);
    composed.set(declarations, schema);
  }
  return schema;
}

const built = new WeakMap<SettingsDeclarations, Record<string, ProviderSettings>>();

/** What a provider's section is written with (provider-settings.ts). */
export const settingsKit: SettingsKit = { z, nodeName };

/** Each provider's section, made with this module's zod, once per set of declarations. */
export function settingsOf(declarations: SettingsDeclarations): Record<string, ProviderSettings> {
  let made = built.get(declarations);
  if (!made) {
    made = Object.fromEntries(Object.entries(declarations).map(([name, declare]) => [name, declare(settingsKit)]));
    built.set(declarations, made);
  }
  return made;
}

/** `settings`: each provider's section the file has, by provider name, as its schema parsed it. */
export type LabFile = z.output<typeof labFileSchema> & { settings?: Readonly<Record<string, unknown>> };
export type NodeSpec = z.output<typeof nodeSchema>;
export type LinkSpec = z.output<typeof linkSchema>;
export type VariantSpec = z.output<typeof variantSchema>;
export type AxisValue = z.output<typeof axisValueSchema>;
export type Combination = z.output<typeof combinationSchema>;
export type Change = z.output<typeof changeSchema>;
export type Overrides = z.output<typeof overridesSchema>;
export type Impairment = z.output<typeof impairmentSchema>;
