/** The files of a run folder: verdict.json and lab.json (from which the rest can be regenerated), report.md, report.html. */
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedLab } from '../lab/model.js';
import type { RunResult } from '../run/run-lab.js';
import { writeHtml } from './html.js';
import { writeLabJson, writeVerdictJson } from './json.js';
import { renderJunit } from './junit.js';
import { writeMarkdown } from './markdown.js';
import { runPictures } from './pictures.js';

/** Everything a finished run writes; JUnit XML too when asked (--junit). */
export async function writeRunReports(lab: ResolvedLab, run: RunResult, options: { junit?: string | undefined } = {}) {
  writeVerdictJson(run);
  writeLabJson(lab, run);
  const reports = await writeReports(lab, run);
  if (options.junit) fs.writeFileSync(path.resolve(options.junit), renderJunit(run));
  return reports;
}

/** The reports a person reads, from a run (just finished, or read back from its folder by `lab report`). */
export async function writeReports(lab: ResolvedLab, run: RunResult): Promise<{ markdown: string; html: string }> {
  // The captures are read once for both.
  const pictures = await runPictures(run);
  const markdown = writeMarkdown(lab, run, pictures);
  const html = await writeHtml(lab, run, pictures);
  return { markdown, html };
}
