/**
 * Verdicts across runs as one table: lab × variant rows, one column per kernel (and provider), so
 * "which kernels still have this bug" reads across a row. Each cell carries the verdict the lab
 * expected on that kernel (the run's own expectation, as verdict.json records it), a `differs` mark, and an
 * `unchecked` mark where nothing (or unknown) was expected.
 */
import type { RunResult } from '../run/run-lab.js';
import { checkOf, expectedVerdictText, kernelToMatch } from '../run/expect.js';
import { kernelLabel } from '../run/kernel-version.js';
import { verdictText } from './facets.js';
import { esc } from './svg.js';

export interface MatrixCell {
  verdict: string;
  runId?: string;
  /** What the lab file expects for this variant on this kernel, when it says. */
  expected?: string;
  /** True when an expectation exists and the verdict is not it. */
  differs: boolean;
  /** True when the variant ran and no expectation (or "unknown") covers the kernel. */
  unchecked: boolean;
}

export interface Matrix {
  labs: string[];
  /** Kept for one-lab matrices: the lab's name. */
  lab: string;
  columns: Array<{ kernel: string; provider: string; runIds: string[] }>;
  rows: Array<{ lab: string; variant: string; cells: MatrixCell[] }>;
}

export function buildMatrix(runs: RunResult[]): Matrix {
  const labs = [...new Set(runs.map((r) => r.lab))].sort();
  const single = labs.length === 1;
  const sorted = [...runs].sort(
    (a, b) =>
      kernelToMatch(a).localeCompare(kernelToMatch(b), undefined, { numeric: true }) || a.provider.localeCompare(b.provider) || a.runId.localeCompare(b.runId),
  );
  // One lab: a column per run (two runs on one kernel are compared side by side); several: a column per kernel and provider.
  // A run whose nodes ran different kernels is its own column (kernelLabel names each node's).
  const keyOf = (r: RunResult) => (single ? `${kernelLabel(r)}|${r.provider}|${r.runId}` : `${kernelLabel(r)}|${r.provider}`);
  const keys = [...new Set(sorted.map(keyOf))];
  const columns = keys.map((key) => {
    const inColumn = sorted.filter((r) => keyOf(r) === key);
    return { kernel: kernelLabel(inColumn[0]!), provider: inColumn[0]!.provider, runIds: inColumn.map((r) => r.runId) };
  });
  const rows = labs.flatMap((lab) => {
    const ofLab = sorted.filter((r) => r.lab === lab);
    const variants = [...new Set(ofLab.flatMap((r) => r.variants.map((v) => v.name)))];
    return variants.map((variant) => ({
      lab,
      variant,
      cells: keys.map((key): MatrixCell => {
        const run = ofLab.filter((r) => keyOf(r) === key).at(-1);
        const result = run?.variants.find((v) => v.name === variant);
        const verdict = result ? verdictText(result) : '—';
        const check = result ? checkOf(result) : undefined;
        // "unknown" expects nothing.
        const want = result?.expected && result.expected.verdict !== 'unknown' ? expectedVerdictText(result.expected) : undefined;
        return {
          verdict,
          ...(run ? { runId: run.runId } : {}),
          ...(want ? { expected: want } : {}),
          differs: check === 'differs',
          unchecked: check === 'unchecked',
        };
      }),
    }));
  });
  return { labs, lab: labs.join(', '), columns, rows };
}

const cellText = (c: MatrixCell) => (c.differs ? `${c.verdict} ≠ expected ${c.expected}` : c.unchecked ? `${c.verdict} (unchecked)` : c.verdict);

export function matrixMarkdown(m: Matrix): string {
  const single = m.labs.length === 1;
  const header = (c: Matrix['columns'][number]) => `${c.kernel} (${c.provider})${single ? `<br>${c.runIds.join(', ')}` : ''}`;
  const head = `| ${single ? '' : 'lab | '}variant | ${m.columns.map(header).join(' | ')} |`;
  const sep = `|${single ? '' : '---|'}---|${m.columns.map(() => '---').join('|')}|`;
  const title = single ? `# ${m.lab}: verdicts across runs` : `# ${m.labs.length} labs: verdicts across kernels`;
  const differing = m.rows.reduce((n, r) => n + r.cells.filter((c) => c.differs).length, 0);
  const unchecked = m.rows.reduce((n, r) => n + r.cells.filter((c) => c.unchecked).length, 0);
  const notes = [
    differing ? `${differing} cell(s) differ from what the lab file expects on that kernel (in bold).` : '',
    unchecked ? `${unchecked} cell(s) are unchecked: the lab file expects nothing (or unknown) of that variant on that kernel.` : '',
  ].filter(Boolean);
  const note = notes.length ? `\n${notes.join('\n')}\n` : '';
  const text = (c: MatrixCell) => (c.differs ? `**${cellText(c)}**` : cellText(c));
  return `${title}\n\n${head}\n${sep}\n${m.rows.map((r) => `| ${single ? '' : `${r.lab} | `}${r.variant} | ${r.cells.map(text).join(' | ')} |`).join('\n')}\n${note}`;
}

export function matrixHtml(m: Matrix): string {
  const single = m.labs.length === 1;
  const style =
    'td,th{border:1px solid #ccc;padding:4px 8px}.REPRODUCED{background:#fed7d7}.NOT_REPRODUCED{background:#c6f6d5}.INCONCLUSIVE{background:#fefcbf}.differs{outline:3px solid #c53030;font-weight:bold}.unchecked{font-style:italic}table{border-collapse:collapse}body{font-family:sans-serif}';
  const head = `<tr>${single ? '' : '<th>lab</th>'}<th>variant</th>${m.columns.map((c) => `<th>${esc(c.kernel)}<br>${esc(c.provider)}${single ? `<br><small>${esc(c.runIds.join(', '))}</small>` : ''}</th>`).join('')}</tr>`;
  const cell = (c: MatrixCell) =>
    `<td class="${esc(c.verdict.split(' ')[0]!)}${c.differs ? ' differs' : ''}${c.unchecked ? ' unchecked' : ''}"${c.expected ? ` title="expected ${esc(c.expected)}"` : ''}>${esc(cellText(c))}</td>`;
  const rows = m.rows.map((r) => `<tr>${single ? '' : `<td>${esc(r.lab)}</td>`}<td>${esc(r.variant)}</td>${r.cells.map(cell).join('')}</tr>`).join('\n');
  const title = single ? `${m.lab}: verdicts across runs` : 'verdicts across kernels';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${style}</style></head><body><h1>${esc(title)}</h1><table>${head}\n${rows}</table></body></html>\n`;
}
