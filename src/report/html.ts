/** report.html: one self-contained file (inline CSS and SVG, no scripts, no fetches) a person can open from disk. */
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedLab } from '../lab/model.js';
import type { RunResult, VariantResult } from '../run/run-lab.js';
import { topologySvg } from './topology.js';
import { ladderFor } from './ladder.js';
import { runPictures, type VariantPictures } from './pictures.js';
import { intervalText, timelineSvg } from './timeline.js';
import { esc } from './svg.js';
import { expectedCell } from './markdown.js';
import { checkOf, kernelsToMatchText } from '../run/expect.js';
import { kernelLabel } from '../run/kernel-version.js';
import { mechanismText, outcomeText, verdictText } from './facets.js';
import { LabError } from '../errors.js';

const CSS = `
body{font-family:sans-serif;margin:2em;max-width:1400px;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.differs{outline:3px solid #c53030;font-weight:bold}.unchecked{font-style:italic;color:#744210}.REPRODUCED{background:#fed7d7}.NOT_REPRODUCED{background:#c6f6d5}.INCONCLUSIVE{background:#fefcbf}
.diagram{overflow-x:auto;border:1px solid #ddd;padding:8px;margin:8px 0;background:#fff}
pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:12px}
code{background:#f2f2f2;padding:1px 3px}`;

export async function renderHtml(lab: ResolvedLab, run: RunResult, pictures?: VariantPictures[]): Promise<string> {
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(`${lab.name}: ${run.runId}`)}</title><style>${CSS}</style></head><body>`);
  parts.push(`<h1>${esc(lab.name)}: ${esc(lab.title)}</h1>`);
  parts.push(
    `<p>Run <code>${esc(run.runId)}</code> on provider <code>${esc(run.provider)}</code>, kernel <code>${esc(kernelLabel(run))}</code>, started ${esc(run.startedAt)}.</p>`,
  );
  parts.push(`<p>${esc(lab.description.trim())}</p>`);
  parts.push(`<p>Upstream: ${lab.upstream.map((u) => `<a href="${esc(u)}">${esc(u)}</a>`).join(', ')}</p>`);
  parts.push('<h2>Verdicts</h2><table id="verdicts"><tr><th>variant</th><th>verdict</th><th>expected</th><th>reason</th></tr>');
  for (const v of run.variants) {
    const check = checkOf(v);
    const expected = `<td${check === 'matches' ? '' : ` class="${check}"`}>${esc(expectedCell(v, kernelsToMatchText(run)))}${v.expected ? ` <a href="${esc(v.expected.source)}">source</a>` : ''}</td>`;
    parts.push(
      `<tr class="${v.verdict}"><td><a href="#v-${esc(v.name)}">${esc(v.name)}</a></td><td><b>${esc(verdictText(v))}</b></td>${expected}<td>${esc(v.reason)}</td></tr>`,
    );
  }
  parts.push('</table>');
  parts.push(`<h2>Topology</h2><div class="diagram" id="topology">${topologySvg(lab)}</div>`);
  const drawn = pictures ?? (await runPictures(run));
  parts.push(...run.variants.map((v, i) => variantHtml(lab, v, drawn[i]!)));
  parts.push('</body></html>');
  return parts.join('\n');
}

function variantHtml(lab: ResolvedLab, v: VariantResult, pictures: VariantPictures): string {
  const { pcaps, packets, phases, moments, timelines } = pictures;
  const out = [
    `<h2 id="v-${esc(v.name)}">Variant <code>${esc(v.name)}</code>: <span class="${v.verdict}">${esc(verdictText(v))}</span></h2>`,
    `<p>${esc(v.description.trim())}</p>`,
  ];
  if (v.overrides?.length) out.push(`<p>Settings overridden (its lab built with them): ${v.overrides.map((o) => `<code>${esc(o)}</code>`).join(', ')}</p>`);
  if (v.changes.length) out.push(`<p>Changes: ${v.changes.map((c) => `<code>${esc(c)}</code>`).join(', ')}</p>`);
  out.push(`<p><b>${esc(verdictText(v))}</b>: ${esc(v.reason)}</p>`);
  if (v.outcome) out.push(`<p class="outcome"><b>Outcome</b>: ${esc(outcomeText(v.outcome))}</p>`);
  if (v.mechanism) out.push(`<p class="mechanism"><b>Mechanism</b>: ${esc(mechanismText(v.mechanism))}</p>`);
  out.push(`<p>Decided by: ${v.decidedBy.map((d) => `<code>${esc(d)}</code>`).join(', ')}</p>`);
  if (timelines.length) {
    const shaded = phases.length ? `, the phases (${phases.map((p) => p.name).join(', ')}) shaded` : '';
    const marked = moments.length ? `, marked moments in red` : '';
    out.push(`<h3>Flow timeline</h3><p>Packets per interval at each capture point, one line per flow${shaded}${marked}.</p>`);
    for (const tl of timelines)
      out.push(`<div class="diagram timeline" data-hop="${esc(tl.hop)}" data-interval="${esc(intervalText(tl.interval))}">${timelineSvg(tl)}</div>`);
  }
  if (pictures.throughput) {
    out.push(
      `<h3>Throughput</h3><p>What the agents reported while they transferred${phases.length ? ', the phases shaded' : ''}${moments.length ? ', marked moments in red' : ''}.</p>`,
      `<div class="diagram timeline throughput">${timelineSvg(pictures.throughput)}</div>`,
    );
  }
  let ladder: ReturnType<typeof ladderFor> = null;
  try {
    if (!Array.isArray(packets)) throw packets.problem;
    ladder = pcaps.length ? ladderFor(lab, v.name, pcaps, packets, phases, moments) : null;
  } catch (error) {
    out.push(`<p><i>No packet ladder: ${esc(error instanceof LabError ? `${error.message} (${error.hint ?? ''})` : String(error))}</i></p>`);
  }
  if (ladder) {
    const kept =
      ladder.shown < ladder.packets
        ? ` (the first and last of each phase, those around each marked moment, handshakes, resets, ICMP errors, marked segments and what led to a reset; "… N packets …" stands for those left out)`
        : '';
    out.push(
      `<h3>Packet ladder</h3><p>${ladder.shown} of ${ladder.packets} captured packets${kept}; arrows join the sightings of one packet at each capture point, with the addresses translated on the way.</p>`,
    );
    out.push(`<div class="diagram ladder">${ladder.svg}</div>`);
  }
  if (pcaps.length) out.push(`<p>Captures: ${pcaps.map((p) => `<a href="${esc(p.file)}">${esc(p.file)}</a>`).join(', ')}</p>`);
  out.push(`<details><summary>Evidence</summary><pre>${esc(JSON.stringify(v.evidence, null, 2))}</pre></details>`);
  return out.join('\n');
}

export async function writeHtml(lab: ResolvedLab, run: RunResult, pictures?: VariantPictures[]): Promise<string> {
  const file = path.join(run.resultsDir, 'report.html');
  fs.writeFileSync(file, await renderHtml(lab, run, pictures));
  return file;
}
