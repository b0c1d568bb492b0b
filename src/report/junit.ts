/** JUnit XML for CI systems: one test case per variant. INCONCLUSIVE is an <error> (the run could not decide), never a pass. */
import type { RunResult, VariantResult } from '../run/run-lab.js';
import { checkOf } from '../run/expect.js';
import { seenText } from './facets.js';

const x = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function renderJunit(run: RunResult): string {
  const errors = run.variants.filter((v) => v.verdict === 'INCONCLUSIVE').length;
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const cases = run.variants.map((v) => {
    const head = `  <testcase classname="${x(run.lab)}" name="${x(v.name)}" time="${seconds(v.durationMs)}">`;
    const body =
      v.verdict === 'INCONCLUSIVE'
        ? `\n    <error type="INCONCLUSIVE" message="${x(v.reason)}"/>`
        : `\n    <system-out>${x(`${v.verdict}: ${v.reason}`)}</system-out>`;
    return `${head}${body}\n    <properties>${caseProperties(v)}</properties>\n  </testcase>`;
  });
  const total = run.variants.reduce((n, v) => n + v.durationMs, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="${x(run.lab)}" tests="${run.variants.length}" failures="0" errors="${errors}" time="${seconds(total)}" timestamp="${x(run.startedAt)}" hostname="${x(run.provider)}">\n  <properties><property name="kernel" value="${x(run.kernel)}"/>${run.kernelVersion ? `<property name="kernelVersion" value="${x(run.kernelVersion)}"/>` : ''}<property name="runId" value="${x(run.runId)}"/></properties>\n${cases.join('\n')}\n</testsuite>\n`;
}

/** The verdict, its kind, what the outcome and the mechanism showed, and how it stands against the lab file's expectation. */
function caseProperties(v: VariantResult): string {
  const props: Array<[string, string]> = [['verdict', v.verdict]];
  if (v.inconclusive) props.push(['inconclusive', v.inconclusive]);
  if (v.outcome) props.push(['outcome', `${v.outcome.failure}: ${seenText(v.outcome.seen)}`]);
  if (v.mechanism) props.push(['mechanism', `${v.mechanism.name}: ${seenText(v.mechanism.seen)}`]);
  props.push(['expectation', checkOf(v)]);
  return props.map(([name, value]) => `<property name="${name}" value="${x(value)}"/>`).join('');
}
