/**
 * Property tests of the lab loader, in-process (no CLI per case): generated valid lab files resolve
 * and plan, and every token of the plan comes from the validated patterns; generated invalid ones
 * (hostile values put anywhere, text mangled) give one LabError, exit 2, naming file and line.
 * FUZZ_SEED and FUZZ_RUNS reproduce or widen a run.
 */
import test from 'ava';
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { root } from '../helpers/cli.js';
import { loadLabText, type LoadOptions } from '../../src/lab/load.js';
import { scenarioCatalogue } from '../../src/run/scenarios/registry.js';
import { LabError } from '../../src/errors.js';
import { planLab, type NetnsPlan } from '../../src/providers/netns/plan.js';
import { NETNS_SYSCTLS } from '../../src/lab/sysctls-netns.js';
import { SYSCTL_KEY, SYSCTL_VALUE } from '../../src/lab/names.js';

const base = parse(fs.readFileSync(path.join(root, 'labs', 'docker-1090', 'lab.yaml'), 'utf8')) as Record<string, any>;
const file = path.join(root, 'test', 'fuzz', 'generated', 'lab.yaml');
const shown = path.relative(process.cwd(), file).startsWith('..') ? file : path.relative(process.cwd(), file);
const runs = Number(process.env.FUZZ_RUNS ?? 1);
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const params = (numRuns: number) => ({ numRuns: numRuns * runs, seed, includeErrorInReport: true });

/** A plan token is a word of the validated patterns: names, addresses, numbers, options. No space, quote or shell character. */
const SAFE_TOKEN = /^(!|[A-Za-z0-9_.:/,+=@%-]{1,200})$/;
/** A sysctl setting is one argv word whose value may hold spaces (net.ipv4.tcp_rmem=4096 87380 6291456): SYSCTL_KEY=SYSCTL_VALUE. */
const SYSCTL_SETTING = new RegExp(`^${SYSCTL_KEY.source.slice(1, -1)}=${SYSCTL_VALUE.source.slice(1)}`);
const safe = (token: string) => SAFE_TOKEN.test(token) || SYSCTL_SETTING.test(token);
/** Lines of iptables-restore input: comments, tables, chain policies, COMMIT, or rules made of safe tokens. */
const SAFE_INPUT_LINE = /^(#[^\n]*|\*[a-z]+|:[A-Za-z0-9_-]+ (ACCEPT|DROP|-) \[0:0\]|COMMIT|)$/;

const perNetnsKeys = Object.entries(NETNS_SYSCTLS).flatMap(([prefix, names]) => names.map((n) => prefix.replace('*', 'eth0') + n));
const nodeName = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/).filter((n) => !['client', 'router', 'server', 'app'].includes(n));
const sysctlValue = fc.oneof(fc.integer({ min: 0, max: 65535 }).map(String), fc.constantFrom('0', '1', '2', 'cubic', '4096 87380 6291456'));
const duration = fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.constantFrom('us', 'ms', 's')).map(([n, u]) => `${u === 's' ? Math.min(n, 4294) : n}${u}`);
const percent = fc.tuple(fc.integer({ min: 0, max: 100 }), fc.constantFrom('', '.5', '.25')).map(([n, f]) => `${n === 100 ? 100 : `${n}${f}`}%`);
const rate = fc.tuple(fc.integer({ min: 1, max: 999 }), fc.constantFrom('kbit', 'mbit', 'gbit')).map(([n, u]) => `${n}${u}`);
const impairment = fc
  .record({
    delay: duration,
    jitter: fc.option(duration, { nil: undefined }),
    loss: fc.option(percent, { nil: undefined }),
    reorder: fc.option(percent, { nil: undefined }),
    rate: fc.option(rate, { nil: undefined }),
  })
  .map((i) => Object.fromEntries(Object.entries(i).filter(([, v]) => v !== undefined)));
const ruleToken = fc.constantFrom(
  ...['-p', 'tcp', 'udp', '-m', 'conntrack', '--ctstate', 'INVALID,NEW', '-s', '10.0.0.0/8', '!', '-d', '172.17.0.2'],
  ...['--dport', '9000', '-j', 'DROP', 'ACCEPT'],
);
const change = (nodes: string[]) =>
  fc.oneof(
    fc.record({ node: fc.constantFrom(...nodes), sysctl: fc.record({ key: fc.constantFrom(...perNetnsKeys), value: sysctlValue }) }),
    fc.record({
      node: fc.constantFrom(...nodes),
      iptables: fc.record({
        chain: fc.constantFrom('INPUT', 'FORWARD', 'OUTPUT'),
        position: fc.integer({ min: 1, max: 1000 }),
        rule: fc.array(ruleToken, { minLength: 1, maxLength: 8 }).map((t) => t.join(' ')),
      }),
    }),
  );

/** docker-1090 with generated extra nodes hanging off its router, impairments, sysctls and variants. */
const validLab = fc
  .record({
    extra: fc.uniqueArray(
      fc.record({
        name: nodeName,
        role: fc.constantFrom('host', 'router'),
        explicit: fc.boolean(),
        sysctls: fc.dictionary(fc.constantFrom(...perNetnsKeys), sysctlValue, { maxKeys: 3 }),
      }),
      { selector: (n) => n.name, maxLength: 5 },
    ),
    impairments: fc.array(fc.option(impairment, { nil: undefined }), { minLength: 2, maxLength: 2 }),
    variantNames: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,31}$/), { maxLength: 3 }),
    instance: fc.option(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,15}$/), { nil: undefined }),
    seed: fc.integer(),
  })
  .chain(({ extra, impairments, variantNames, instance }) => {
    const nodes = ['client', 'router', 'server', 'app', ...extra.map((e) => e.name)];
    return fc.array(fc.array(change(nodes), { maxLength: 3 }), { minLength: variantNames.length, maxLength: variantNames.length }).map((changes) => {
      const lab = structuredClone(base);
      extra.forEach((e, i) => {
        lab.nodes[e.name] = { role: e.role, ...(Object.keys(e.sysctls).length ? { sysctls: e.sysctls } : {}) };
        const addressing = { subnet: `10.20.${i}.0/24`, addresses: { router: `10.20.${i}.1`, [e.name]: `10.20.${i}.2` } };
        lab.links.push({ endpoints: ['router', e.name], ...(e.explicit ? addressing : {}) });
      });
      impairments.forEach((imp, i) => imp && (lab.links[i].impairment = [imp]));
      variantNames.forEach((v, i) => (lab.variants[v] ??= { description: `generated ${v}`, changes: changes[i] }));
      return { text: stringify(lab), instance };
    });
  });

function planTokens(plan: NetnsPlan): string[] {
  return [...plan.steps.flatMap((s) => s.commands.flatMap((c) => c.argv)), ...plan.services.flatMap((s) => s.argv)];
}

test('generated valid lab files resolve and plan, and every planned token is a validated word', (t) => {
  let planned = 0;
  fc.assert(
    fc.property(validLab, ({ text, instance }) => {
      const lab = loadLabText(file, text, instance);
      const plan = planLab(lab);
      for (const token of planTokens(plan)) if (!safe(token)) throw new Error(`unsafe token ${JSON.stringify(token)}`);
      for (const c of plan.steps.flatMap((s) => s.commands)) {
        for (const line of (c.input ?? '').split('\n')) {
          if (!SAFE_INPUT_LINE.test(line) && !line.split(' ').every((w) => SAFE_TOKEN.test(w))) throw new Error(`unsafe input line ${JSON.stringify(line)}`);
        }
      }
      for (const v of lab.variants)
        for (const ch of v.changes) {
          const words = 'sysctl' in ch ? [ch.node, ch.sysctl.key, ...ch.sysctl.value.split(' ')] : [ch.node, ch.iptables.chain, ...ch.iptables.rule.split(' ')];
          for (const w of words) if (!SAFE_TOKEN.test(w)) throw new Error(`unsafe change word ${JSON.stringify(w)}`);
        }
      planned++;
    }),
    params(400),
  );
  t.true(planned >= 400, `${planned} labs planned`);
});

const hostileValue = fc.oneof(
  fc.constantFrom('$(reboot)', '`id`', '; rm -rf /', 'a\nb', '../../etc/passwd', '010.010.001.002', '999.1.1.1', '10.0.0.0/33'),
  fc.constantFrom('kernel.panic', 'vm.drop_caches', '150%', '0kbit', '5000s', '-1', ''),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(null, true, [], {}, { x: 1 }, [1, [2, [3]]]),
  fc.constant('x'.repeat(5000)),
);

/** Every [path] to a value in a parsed lab. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function setIn(obj: any, p: Array<string | number>, value: unknown, mode: 'set' | 'delete' | 'add'): void {
  if (p.length === 0) return;
  const parent = p.slice(0, -1).reduce((o, k) => o[k], obj);
  const key = p.at(-1)!;
  if (mode === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if (mode === 'add' && parent && typeof parent === 'object' && !Array.isArray(parent)) parent['x-unknown'] = value;
  else parent[key] = value;
}

/** What a bad lab file must give: a LabError, exit 2, naming the file; each detail located at a line when it has one. */
function rejectsCleanly(text: string, instance?: string, options: LoadOptions = {}): 'valid' | 'rejected' {
  try {
    planLab(loadLabText(file, text, instance, options));
    return 'valid';
  } catch (error) {
    if (!(error instanceof LabError)) throw new Error(`not a LabError: ${(error as Error)?.stack ?? String(error)}`);
    if (error.exitCode !== 2) throw new Error(`exit ${error.exitCode}: ${error.message}`);
    if (!error.message.includes(shown)) throw new Error(`the file is not named: ${error.message}`);
    for (const d of error.details) if (!d.startsWith(`${shown}:`) && !d.startsWith(`${shown} `)) throw new Error(`detail without the file: ${d}`);
    const located = error.details.filter((d) => new RegExp(`^${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`).test(d));
    if (error.details.length > 0 && located.length === 0 && !/ variants\./.test(error.details[0]!)) throw new Error(`no line: ${error.details.join('; ')}`);
    return 'rejected';
  }
}

const inVerdict = (p: Array<string | number>) => p[0] === 'scenario' && p[1] === 'verdict';

// The rejection rate below was measured on the topology, variants and params; the verdict rules (where deleting an `as`
// or a mechanism leaves a valid file) have their own property after this one.
test('generated invalid lab files (hostile values anywhere) give exit 2 with file and line, never a crash', (t) => {
  const basePaths = paths(base).filter((p) => p.length > 0 && !inVerdict(p));
  const outcomes = { valid: 0, rejected: 0 };
  const mutation = fc.tuple(fc.constantFrom(...basePaths), hostileValue, fc.constantFrom('set', 'set', 'delete', 'add'));
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
      const lab = structuredClone(base);
      for (const [p, value, mode] of mutations) {
        try {
          setIn(lab, p, value, mode as 'set' | 'delete' | 'add');
        } catch {
          // the path went away with an earlier mutation
        }
      }
      outcomes[rejectsCleanly(stringify(lab))]++;
    }),
    params(700),
  );
  t.true(outcomes.rejected >= 600, JSON.stringify(outcomes));
});

test('hostile values in the verdict rules give exit 2 with file and line, never a crash', (t) => {
  const verdictPaths = paths(base).filter((p) => inVerdict(p) && p.length > 2);
  t.true(verdictPaths.length > 20, `${verdictPaths.length} paths in docker-1090's verdict rules`);
  const outcomes = { valid: 0, rejected: 0 };
  const mutation = fc.tuple(fc.constantFrom(...verdictPaths), hostileValue, fc.constantFrom('set', 'set', 'delete', 'add'));
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
      const lab = structuredClone(base);
      for (const [p, value, mode] of mutations) {
        try {
          setIn(lab, p, value, mode as 'set' | 'delete' | 'add');
        } catch {
          // the path went away with an earlier mutation
        }
      }
      // With the scenarios' catalogue: a coded scenario's rules are checked against the measures it computes.
      outcomes[rejectsCleanly(stringify(lab), undefined, { catalogue: scenarioCatalogue })]++;
    }),
    params(300),
  );
  t.true(outcomes.rejected >= 150, JSON.stringify(outcomes));
});

test('mangled lab file text (bytes inserted, cut, aliases, nesting) gives exit 2 with file and line, never a crash', (t) => {
  const text = stringify(base);
  const outcomes = { valid: 0, rejected: 0 };
  const syntax = fc.constantFrom(':', '- ', '{', '[', ']]', '&a ', '*a', '!!binary ', '"', "'", '\t', '\n  ', '? ', '%YAML 1.1\n', '---\n');
  const insert = fc.oneof(fc.string({ maxLength: 8 }), syntax);
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat({ max: text.length }), fc.nat({ max: 20 }), insert), { minLength: 1, maxLength: 3 }), (edits) => {
      let mangled = text;
      for (const [at, cut, s] of edits) mangled = mangled.slice(0, at) + s + mangled.slice(Math.min(mangled.length, at + cut));
      outcomes[rejectsCleanly(mangled)]++;
    }),
    params(400),
  );
  // Most mangles must hit the rejection path (the property above is that none crashes); the rest land in free text
  // (descriptions, expectations' why) and stay valid. docker-1090's file is now mostly such text: about 70% are rejected.
  t.true(outcomes.rejected >= 0.6 * (outcomes.valid + outcomes.rejected), JSON.stringify(outcomes));
});

/** Values wrong by construction, each put where it is wrong: every one must be rejected, none may crash the loader. */
const wrongByConstruction = fc.oneof(
  fc.tuple(fc.constantFrom('kernel', 'vm', 'fs', 'user', 'dev'), fc.stringMatching(/^[a-z_]{1,12}$/)).map(([top, key]) => ({
    kind: 'host sysctl',
    edit: (lab: any) => (lab.nodes.router.sysctls = { [`${top}.${key}`]: '1' }),
  })),
  fc
    .constantFrom(
      ...['net.core.rmem_max', 'net.core.wmem_max', 'net.ipv4.tcp_mem', 'net.ipv4.udp_mem', 'net.netfilter.nf_conntrack_max', 'net.ipv4.route.gc_thresh'],
      'net.core.wmem_default',
    )
    .map((key) => ({
      kind: 'global net sysctl',
      edit: (lab: any) => (lab.variants.baseline.changes = [{ node: 'client', sysctl: { key, value: '1' } }]),
    })),
  fc.tuple(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), fc.nat({ max: 3 })).map(([octets, i]) => ({
    kind: 'leading zero',
    edit: (lab: any) => (lab.links[0].addresses.client = octets.map((o, j) => (j === i ? `0${o}` : String(o))).join('.')),
  })),
  fc.tuple(fc.constantFrom('loss', 'reorder'), fc.integer({ min: 101, max: 100000 })).map(([key, n]) => ({
    kind: 'over 100%',
    edit: (lab: any) => (lab.links[1].impairment = [{ delay: '1ms', [key]: `${n}%` }]),
  })),
  fc.integer({ min: 4295, max: 10 ** 9 }).map((n) => ({ kind: 'delay past tc', edit: (lab: any) => (lab.links[1].impairment = [{ delay: `${n}s` }]) })),
  fc.integer({ min: 0, max: 255 }).map((n) => ({
    kind: 'bridge overlap',
    edit: (lab: any) => Object.assign(lab.links[1], { subnet: `172.17.${n}.0/24`, addresses: { router: `172.17.${n}.1`, server: `172.17.${n}.2` } }),
  })),
);

const aliasBomb = fc.tuple(fc.integer({ min: 6, max: 12 }), fc.integer({ min: 6, max: 10 })).map(([width, depth]) => {
  const level = (i: number) => Array.from({ length: width }, () => (i === 0 ? '"lol"' : `*l${i - 1}`)).join(', ');
  const levels = Array.from({ length: depth }, (_, i) => `  l${i}: &l${i} [${level(i)}]`);
  return stringify(base).replace(/^nodes:/m, `x-bomb:\n${levels.join('\n')}\nnodes:`);
});

test('values wrong by construction (host sysctls, leading zeros, out-of-bound impairments, bridge overlaps, alias bombs) are always rejected', (t) => {
  const seen = new Set<string>();
  fc.assert(
    fc.property(wrongByConstruction, ({ kind, edit }) => {
      const lab = structuredClone(base);
      edit(lab);
      if (rejectsCleanly(stringify(lab)) !== 'rejected') throw new Error(`${kind} was accepted`);
      seen.add(kind);
    }),
    params(200),
  );
  fc.assert(
    fc.property(aliasBomb, (text) => {
      if (rejectsCleanly(text) !== 'rejected') throw new Error('an alias bomb was accepted');
    }),
    params(20),
  );
  t.is(seen.size, 6, [...seen].join(', '));
});
