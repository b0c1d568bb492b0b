/** JUnit XML for CI systems: one test case per variant. INCONCLUSIVE is an <error> (the run could not decide), never a pass. */
import type { RunResult } from '../run/run-lab.js';

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
    return `${head}${body}\n    <properties><property name="verdict" value="${v.verdict}"/></properties>\n  </testcase>`;
  });
  const total = run.variants.reduce((n, v) => n + v.durationMs, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="${x(run.lab)}" tests="${run.variants.length}" failures="0" errors="${errors}" time="${seconds(total)}" timestamp="${x(run.startedAt)}" hostname="${x(run.provider)}">\n  <properties><property name="kernel" value="${x(run.kernel)}"/><property name="runId" value="${x(run.runId)}"/></properties>\n${cases.join('\n')}\n</testsuite>\n`;
}
