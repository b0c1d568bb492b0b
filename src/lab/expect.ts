/**
 * Kernel version ranges of a variant's `expect` entries: comparators joined by "," (">=5.10,<6.1"),
 * a bare "X.Y" for that series, or "*" for any kernel. Versions compare as numbers on
 * major.minor[.patch]; anything after the numbers of `uname -r` ("-fc-v782", "-amd64") is ignored.
 */

export type KernelVersion = [number, number, number];

/** One interval of versions; an absent bound is open-ended. */
export interface KernelRange {
  text: string;
  low?: { version: KernelVersion; inclusive: boolean };
  high?: { version: KernelVersion; inclusive: boolean };
}

export const VERDICTS_EXPECTED = ['REPRODUCED', 'NOT_REPRODUCED', 'INCONCLUSIVE', 'unknown'] as const;
export type ExpectedVerdictName = (typeof VERDICTS_EXPECTED)[number];

/**
 * The kinds of INCONCLUSIVE a lab file may expect: only that the lab cannot run what the report is about. A crash, a
 * time-out, missing or contradicting evidence is never expected (InconclusiveKind in src/run/verdict.ts).
 */
export const EXPECTABLE_INCONCLUSIVE = ['emulation-gap'] as const;
export type ExpectableInconclusive = (typeof EXPECTABLE_INCONCLUSIVE)[number];

/**
 * The kernels an entry covers: a range every node's kernel lies in (on one kernel, the run's), or a range per named node
 * ({ client: ">=6.1" }: that node's kernel; nodes not named may run any kernel).
 */
export type KernelSelector = string | Readonly<Record<string, string>>;

/** The kernels a run saw: `run` is the first node's (every node's, on one kernel); `nodes` each node's when they differ. */
export interface RunKernels {
  run: string;
  nodes?: Readonly<Record<string, string>>;
}

/** One entry of a variant's `expect` list, as the lab file gives it. */
export interface Expectation {
  kernel: KernelSelector;
  verdict: ExpectedVerdictName;
  /** Given with (and only with) verdict INCONCLUSIVE: the kind of INCONCLUSIVE expected. */
  inconclusive?: ExpectableInconclusive;
  why: string;
  source: string;
  measured?: string;
  /** The Docker engines this entry covers: "emulated", or a version range of a real engine (">=23", "20.10"); absent: any. */
  docker?: string;
}

const VERSION = /^(\d{1,4})\.(\d{1,4})(?:\.(\d{1,6}))?/;
const COMPARATOR = /^(>=|<=|>|<)?\s*(\d{1,4}\.\d{1,4}(?:\.\d{1,6})?)$/;

/** "6.18.44-fc-v782" -> [6, 18, 44]; "6.1" -> [6, 1, 0]; undefined when it does not start with major.minor. */
export function parseKernelVersion(text: string): KernelVersion | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

export function compareVersions(a: KernelVersion, b: KernelVersion): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

export const rangeRule = 'a kernel range: "*", "6.1" (that series), or comparators >=, >, <=, < on major.minor[.patch] joined by ",", e.g. ">=5.10,<6.1"';

/** The range, or a message saying what is wrong with it. */
export function parseKernelRange(text: string): KernelRange | string {
  const trimmed = text.trim();
  if (trimmed === '*') return { text: trimmed };
  if (trimmed === '') return 'an empty kernel range';
  const range: KernelRange = { text: trimmed };
  for (const part of trimmed.split(',')) {
    const m = COMPARATOR.exec(part.trim());
    if (!m) return `"${part.trim()}" is not a comparator such as ">=6.1" or "<5.10.200"`;
    const version = parseKernelVersion(m[2]!)!;
    const op = m[1];
    if (op === undefined) {
      if (trimmed.includes(',')) return `"${part.trim()}" (a whole series) cannot be combined with other comparators`;
      if (m[2]!.split('.').length !== 2) return `"${part.trim()}" names one release; write ">=${m[2]},<=${m[2]}" or a series such as "6.1"`;
      return { text: trimmed, low: { version, inclusive: true }, high: { version: [version[0], version[1] + 1, 0], inclusive: false } };
    }
    if (op.startsWith('>')) {
      if (range.low) return `"${trimmed}" has two lower bounds`;
      range.low = { version, inclusive: op === '>=' };
    } else {
      if (range.high) return `"${trimmed}" has two upper bounds`;
      range.high = { version, inclusive: op === '<=' };
    }
  }
  if (isEmpty(range)) return `"${trimmed}" contains no kernel version`;
  return range;
}

export function rangeContains(range: KernelRange, version: KernelVersion): boolean {
  if (range.low) {
    const c = compareVersions(version, range.low.version);
    if (c < 0 || (c === 0 && !range.low.inclusive)) return false;
  }
  if (range.high) {
    const c = compareVersions(version, range.high.version);
    if (c > 0 || (c === 0 && !range.high.inclusive)) return false;
  }
  return true;
}

/** Whether some version lies in both ranges (the intersection is not empty). */
export function rangesOverlap(a: KernelRange, b: KernelRange): boolean {
  return !isEmpty({ text: '', low: tighter(a.low, b.low, 1), high: tighter(a.high, b.high, -1) });
}

type Bound = KernelRange['low'];

/** Of two lower bounds (sign 1) or upper bounds (sign -1), the one that excludes more. */
function tighter(a: Bound, b: Bound, sign: 1 | -1): Bound {
  if (!a) return b;
  if (!b) return a;
  const c = compareVersions(a.version, b.version) * sign;
  if (c !== 0) return c > 0 ? a : b;
  return a.inclusive ? b : a;
}

function isEmpty(range: KernelRange): boolean {
  if (!range.low || !range.high) return false;
  const c = compareVersions(range.low.version, range.high.version);
  return c > 0 || (c === 0 && !(range.low.inclusive && range.high.inclusive));
}

export const dockerRule =
  'emulated (the imitation), or a real engine\'s version range: "20.10" (that series), or comparators >=, >, <=, < joined by ",", e.g. ">=23"';

/** A `docker:` selector of an expectation: the imitation, or a range of real engine versions; a message when it is wrong. */
export type DockerSelector = { emulated: true } | { emulated: false; range: KernelRange };

export function parseDockerSelector(text: string): DockerSelector | string {
  const trimmed = text.trim();
  if (trimmed === 'emulated') return { emulated: true };
  if (trimmed === '*') return `"*" is every engine: leave docker out instead`;
  // Engine majors have no minor in ranges people write (">=23"): read them as major.0.
  const range = parseKernelRange(trimmed.replace(/(^|,|[<>]=?)\s*(\d{1,4})(?=$|,)/g, '$1$2.0'));
  return typeof range === 'string' ? range.replace('kernel version', 'engine version') : { emulated: false, range: { ...range, text: trimmed } };
}

/**
 * The engines of a run, from its `engine` text ("emulated on dhost", "Docker 26.1.5+dfsg1 (real dockerd, ...) on dhost",
 * joined by "; " for several docker hosts): "emulated" or a version for each; empty for a lab without a docker host.
 */
export function enginesOfRun(engine: string | undefined): Array<'emulated' | KernelVersion> {
  if (!engine) return [];
  return engine.split('; ').flatMap((part): Array<'emulated' | KernelVersion> => {
    if (part.startsWith('emulated')) return ['emulated'];
    const version = /^Docker (\d+\.\d+(?:\.\d+)?)/.exec(part)?.[1];
    return version ? [parseKernelVersion(version)!] : [];
  });
}

/** Whether every docker host of the run runs an engine the selector covers (an absent selector covers any run). */
export function dockerMatches(selector: string | undefined, engine: string | undefined): boolean {
  if (selector === undefined) return true;
  const parsed = parseDockerSelector(selector);
  const engines = enginesOfRun(engine);
  if (typeof parsed === 'string' || engines.length === 0) return false;
  return engines.every((e) => (parsed.emulated ? e === 'emulated' : e !== 'emulated' && rangeContains(parsed.range, e)));
}

function dockerOverlap(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  const x = parseDockerSelector(a);
  const y = parseDockerSelector(b);
  if (typeof x === 'string' || typeof y === 'string') return false;
  if (x.emulated || y.emulated) return x.emulated === y.emulated;
  return rangesOverlap(x.range, y.range);
}

/** ">=6.1", or "client <6.1, router >=6.1" for ranges by node: how reports name an entry's kernels. */
export function kernelSelectorText(selector: KernelSelector): string {
  return typeof selector === 'string'
    ? selector
    : Object.entries(selector)
        .map(([node, range]) => `${node} ${range}`)
        .join(', ');
}

/** The nodes an entry names in its kernel (none for a plain range). */
export function kernelSelectorNodes(selector: KernelSelector): string[] {
  return typeof selector === 'string' ? [] : Object.keys(selector);
}

/** Each range of a selector, keyed by the node it constrains ("*": every node). Undefined when one does not parse. */
function selectorRanges(selector: KernelSelector): Map<string, KernelRange> | undefined {
  const ranges = new Map<string, KernelRange>();
  for (const [node, text] of typeof selector === 'string' ? [['*', selector] as const] : Object.entries(selector)) {
    const range = parseKernelRange(text);
    if (typeof range === 'string') return undefined;
    ranges.set(node, range);
  }
  return ranges;
}

/**
 * Whether a run's kernels lie in a selector: a plain range holds every node's kernel (the run's, and each node's when
 * they differ); a range by node holds that node's (its own when the run read one, else the run's). A kernel without a
 * version matches nothing.
 */
export function kernelsMatch(selector: KernelSelector, kernels: RunKernels): boolean {
  const ranges = selectorRanges(selector);
  if (!ranges) return false;
  const inRange = (range: KernelRange, kernel: string) => {
    const version = parseKernelVersion(kernel);
    return version !== undefined && rangeContains(range, version);
  };
  return [...ranges].every(([node, range]) =>
    node === '*' ? [kernels.run, ...Object.values(kernels.nodes ?? {})].every((k) => inRange(range, k)) : inRange(range, kernels.nodes?.[node] ?? kernels.run),
  );
}

/** Whether some run could match both selectors: every node both constrain has a kernel in both ranges. */
export function kernelSelectorsOverlap(a: KernelSelector, b: KernelSelector): boolean {
  const x = selectorRanges(a);
  const y = selectorRanges(b);
  if (!x || !y) return false;
  const nodes = new Set([...x.keys(), ...y.keys()]);
  if (x.has('*') !== y.has('*')) nodes.delete('*'); // a plain range meets a named node's range on that node
  return [...nodes].every((node) => {
    const p = x.get(node) ?? x.get('*');
    const q = y.get(node) ?? y.get('*');
    return !p || !q || rangesOverlap(p, q);
  });
}

/** The entry whose ranges hold the run's kernels (and its engine), or null when none does (or a kernel has no version). */
export function expectationFor<E extends { kernel: KernelSelector; docker?: string }>(
  entries: readonly E[],
  kernels: string | RunKernels,
  engine?: string,
): E | null {
  const run = typeof kernels === 'string' ? { run: kernels } : kernels;
  return entries.find((entry) => kernelsMatch(entry.kernel, run) && dockerMatches(entry.docker, engine)) ?? null;
}

/** Problems of one variant's list: index, field and message, for the validator to place. */
export function expectationProblems(entries: readonly Expectation[]): Array<{ index: number; field: keyof Expectation; message: string }> {
  const problems: Array<{ index: number; field: keyof Expectation; message: string }> = [];
  const seen: Array<{ index: number; kernel: KernelSelector; docker?: string }> = [];
  entries.forEach((entry, index) => {
    const kind = inconclusiveProblem(entry);
    if (kind) problems.push({ index, field: 'inconclusive', message: kind });
    if (!selectorRanges(entry.kernel)) return; // the schema already reported it
    const clash = seen.find((r) => kernelSelectorsOverlap(r.kernel, entry.kernel) && dockerOverlap(r.docker, entry.docker));
    const engines = (d: string | undefined) => (d === undefined ? 'any engine' : `docker "${d}"`);
    const [mine, theirs] = [kernelSelectorText(entry.kernel), clash && kernelSelectorText(clash.kernel)];
    const message =
      clash &&
      (entry.docker === undefined && clash.docker === undefined
        ? `kernel "${mine}" overlaps "${theirs}" of entry [${clash.index}]; give each kernel one expectation`
        : `kernel "${mine}" with ${engines(entry.docker)} overlaps "${theirs}" with ${engines(clash.docker)} of entry [${clash.index}]; give each kernel and engine one expectation`);
    if (message) problems.push({ index, field: 'kernel', message });
    seen.push({ index, kernel: entry.kernel, ...(entry.docker !== undefined ? { docker: entry.docker } : {}) });
  });
  return problems;
}

/** An expected INCONCLUSIVE names its kind, and only an INCONCLUSIVE has one. */
function inconclusiveProblem(entry: Expectation): string | undefined {
  if (entry.verdict === 'INCONCLUSIVE' && !entry.inconclusive)
    return (
      'missing: an expected INCONCLUSIVE names its kind, "inconclusive: emulation-gap" when the lab cannot run what the report is about; ' +
      'a crash, a time-out or missing or contradicting evidence is never expected (write verdict: unknown and say why)'
    );
  if (entry.verdict !== 'INCONCLUSIVE' && entry.inconclusive)
    return `found "${entry.inconclusive}" on an expected ${entry.verdict}; only an expected INCONCLUSIVE names a kind`;
  return undefined;
}
