/** Reports from a saved run: topology and ladder diagrams, JUnit, matrix; and the HTML rendered by a real browser. */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { lab, root, tempHome } from '../helpers/cli.js';
import { matchesGolden } from '../helpers/golden.js';
import { readRun, verdictJson } from '../../src/report/json.js';
import { renderHtml } from '../../src/report/html.js';
import type { RunResult } from '../../src/run/run-lab.js';
import { renderJunit } from '../../src/report/junit.js';
import { topologyDot, topologyMermaid, topologySvg } from '../../src/report/topology.js';
import { loadLab } from '../../src/lab/load.js';
import { buildMatrix, matrixMarkdown } from '../../src/report/matrix.js';
import { renderMarkdown } from '../../src/report/markdown.js';

const fixture = path.join(root, 'test', 'fixtures', 'runs', 'docker-1090');

function copyOfFixture(): string {
  const dir = path.join(tempHome('lab-report-'), 'run');
  fs.cpSync(fixture, dir, { recursive: true });
  return dir;
}

test('topology as Mermaid, DOT and SVG match their goldens', (t) => {
  const docker = loadLab('docker-1090');
  matchesGolden(t, 'golden/docker-1090.mermaid', topologyMermaid(docker));
  matchesGolden(t, 'golden/docker-1090.dot', topologyDot(docker));
  matchesGolden(t, 'golden/docker-1090.topology.svg', topologySvg(docker));
});

test('lab graph prints the topology in the format asked for', async (t) => {
  const dot = await lab(['graph', 'docker-1090', '--format', 'dot']);
  t.is(dot.code, 0);
  t.regex(dot.stdout, /"client" -- "router" \[label="10\.10\.1\.0\/24"\]/);
  const bad = await lab(['graph', 'docker-1090', '--format', 'png']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /Invalid values|Choices/);
});

test('JUnit: one test case per variant, INCONCLUSIVE as an error', (t) => {
  const { run } = readRun(fixture);
  matchesGolden(t, 'golden/docker-1090.junit.xml', renderJunit(run));
  const inconclusive = renderJunit({ ...run, variants: [{ ...run.variants[0]!, verdict: 'INCONCLUSIVE', reason: 'no <evidence>' }] });
  t.regex(inconclusive, /errors="1"/);
  t.regex(inconclusive, /<error type="INCONCLUSIVE" message="no &lt;evidence&gt;"\/>/);
});

test('matrix: one row per lab and variant, one column per run or kernel, expected verdicts marked where they differ', (t) => {
  const { run } = readRun(fixture);
  const older = { ...run, kernel: '5.4.0', runId: 'old' };
  const md = matrixMarkdown(buildMatrix([run, older]));
  t.regex(md, /\| variant \| 5\.4\.0 \(netns\)<br>old \| 6\.18/);
  t.regex(md, /\| baseline \| REPRODUCED \(unchecked\) \| REPRODUCED \(unchecked\) \|/, 'the saved lab.json expects nothing');
  t.regex(md, /8 cell\(s\) are unchecked/);
  const labs = matrixMarkdown(buildMatrix([run, { ...run, lab: 'other', runId: 'x' }, older]));
  t.regex(labs, /\| lab \| variant \| 5\.4\.0 \(netns\) \| 6\.18/, 'several labs: a column per kernel');
  t.regex(labs, /\| other \| baseline \| — \| REPRODUCED \(unchecked\) \|/);
  const expectation = { verdict: 'NOT_REPRODUCED' as const, kernel: '<6.1', why: 'the older kernel ignores it', source: 'https://example.org/' };
  const olderExpecting = {
    ...older,
    variants: older.variants.map((v) => (v.name === 'baseline' ? { ...v, expected: expectation, matchesExpected: false } : v)),
  };
  const expected = buildMatrix([run, olderExpecting]);
  t.regex(matrixMarkdown(expected), /\| baseline \| \*\*REPRODUCED ≠ expected NOT_REPRODUCED\*\* \| REPRODUCED \(unchecked\) \|/);
  t.deepEqual(
    expected.rows[0]!.cells.map((c) => [c.differs, c.unchecked]),
    [
      [true, false],
      [false, true],
    ],
  );
});

test('lab report regenerates report.md and report.html from saved evidence', async (t) => {
  const dir = copyOfFixture();
  const result = await lab(['report', dir]);
  t.is(result.code, 0, result.stderr);
  const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
  t.regex(html, /<svg[^>]*aria-label="topology of docker-1090"/);
  t.regex(html, /<svg[^>]*aria-label="packet ladder: docker-1090 baseline"/);
  t.regex(html, /class="rst"/, 'the RST is drawn in the baseline ladder');
  t.notRegex(html, /<script|<link|<img|<iframe|\ssrc=|@import|url\((?!#)/, 'self-contained: no scripts, nothing fetched');
  t.regex(fs.readFileSync(path.join(dir, 'report.md'), 'utf8'), /## Variant `baseline`: REPRODUCED/);
  const missing = await lab(['report', path.join(dir, 'nope')]);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /is not a run folder/);
});

test('report.html renders in headless Chromium without console errors', async (t) => {
  const dir = copyOfFixture();
  t.is((await lab(['report', dir])).code, 0);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`file://${path.join(dir, 'report.html')}`);
    t.is(await page.locator('#topology svg g.node').count(), 4, 'four nodes drawn');
    t.true((await page.locator('.ladder svg').count()) >= 4, 'a ladder per variant');
    t.true((await page.locator('.ladder svg line.rst').count()) >= 1, 'the reset is visible');
    const box = await page.locator('#topology svg').boundingBox();
    t.true(box !== null && box.width > 300 && box.height > 100, 'the topology has a real size on screen');
    fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
    await page.screenshot({ path: path.join(root, 'test-results', 'report-docker-1090.png'), fullPage: true });
    t.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

/** Layout as drawn by Chromium: every label inside its picture, no label on another, none across a lane or under a node box. */
test('report.html layout: labels neither clipped, overlapping, nor running across lanes', async (t) => {
  const dir = copyOfFixture();
  t.is((await lab(['report', dir])).code, 0);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`file://${path.join(dir, 'report.html')}`);
    const found = await page.evaluate(() => {
      type Box = { x: number; y: number; width: number; height: number };
      const overlap = (a: Box, b: Box) => a.x < b.x + b.width - 1 && b.x < a.x + a.width - 1 && a.y < b.y + b.height - 1 && b.y < a.y + a.height - 1;
      const problems: string[] = [];
      let texts = 0;
      for (const svg of Array.from(document.querySelectorAll<SVGSVGElement>('#topology svg, .ladder svg'))) {
        const name = svg.getAttribute('aria-label');
        const vb = svg.viewBox.baseVal;
        const labels = Array.from(svg.querySelectorAll<SVGTextElement>('text')).map((el) => ({ el, text: el.textContent ?? '', box: el.getBBox() }));
        texts += labels.length;
        for (const l of labels) {
          if (l.box.x < vb.x || l.box.y < vb.y || l.box.x + l.box.width > vb.x + vb.width || l.box.y + l.box.height > vb.y + vb.height)
            problems.push(`${name}: "${l.text}" leaves the picture`);
        }
        labels.forEach((a, i) => labels.slice(i + 1).forEach((b) => overlap(a.box, b.box) && problems.push(`${name}: "${a.text}" overlaps "${b.text}"`)));
        const nodeBoxes = Array.from(svg.querySelectorAll<SVGRectElement>('g.node > rect')).map((r) => r.getBBox());
        for (const l of labels.filter((x) => x.el.classList.contains('subnet')))
          if (nodeBoxes.some((b) => overlap(l.box, b))) problems.push(`${name}: subnet "${l.text}" is under a node box`);
        const lanes = Array.from(svg.querySelectorAll<SVGLineElement>('line.lane')).map((l) => ({ x: l.x1.baseVal.value, top: l.y1.baseVal.value }));
        for (const l of labels)
          if (lanes.some((lane) => l.box.y + l.box.height > lane.top && l.box.x < lane.x && lane.x < l.box.x + l.box.width))
            problems.push(`${name}: "${l.text}" runs across a lane`);
      }
      return { problems, texts };
    });
    t.true(found.texts > 20, 'the pictures have their labels');
    t.deepEqual(found.problems, []);
  } finally {
    await browser.close();
  }
});

test("Markdown: a variant's expectation gives its why once, whether it matched or differed", (t) => {
  const { run } = readRun(fixture);
  const docker = loadLab('docker-1090');
  const why = 'the forged segment is INVALID on this kernel';
  const variant = { ...run.variants[0]!, expected: { verdict: 'REPRODUCED' as const, kernel: '*', why, source: 'https://example.org/report' } };
  const count = (text: string) => text.split(why).length - 1;
  const expectedLine = (text: string) => text.split('\n').find((l) => l.startsWith('**Expected:**') && l.includes(why)) ?? '';
  const matched = renderMarkdown(docker, { ...run, variants: [{ ...variant, matchesExpected: true }] });
  t.is(count(expectedLine(matched)), 1);
  const differed = renderMarkdown(docker, { ...run, variants: [{ ...variant, matchesExpected: false }] });
  t.regex(expectedLine(differed), /^\*\*Expected:\*\* DIFFERS from expected/);
  t.is(count(expectedLine(differed)), 1);
});

test('every report shows the outcome, the mechanism, the kind of an INCONCLUSIVE, the upstream kernel and unchecked variants', async (t) => {
  const { run } = readRun(fixture);
  const docker = loadLab('docker-1090');
  const outcome = { failure: 'connection reset', seen: true, detail: 'the client got ECONNRESET' };
  const mechanism = { name: 'RST from the client host', seen: false, detail: 'no RST in the capture' };
  const expected = {
    verdict: 'INCONCLUSIVE' as const,
    inconclusive: 'emulation-gap' as const,
    kernel: '*',
    why: 'not emulated',
    source: 'https://example.org/gap',
  };
  const faceted: RunResult = {
    ...run,
    kernel: '5.10.0-32-amd64',
    kernelVersion: '5.10.223',
    variants: [
      { ...run.variants[0]!, outcome, mechanism, expected: null, matchesExpected: null },
      { ...run.variants[1]!, verdict: 'INCONCLUSIVE', inconclusive: 'error', error: 'agent died', expected, matchesExpected: false },
    ],
  };

  const md = renderMarkdown(docker, faceted);
  t.regex(md, /kernel `5\.10\.0-32-amd64 \(5\.10\.223\)`/);
  t.regex(md, /^\*\*Outcome:\*\* connection reset: seen \(the client got ECONNRESET\)$/m);
  t.regex(md, /^\*\*Mechanism:\*\* RST from the client host: not seen \(no RST in the capture\)$/m);
  t.regex(md, /^\| baseline \| \*\*REPRODUCED\*\* \| unchecked: no expectation for 5\.10\.223 \|/m);
  t.regex(md, /^\| drop-invalid \| \*\*INCONCLUSIVE \(error\)\*\* \| DIFFERS from expected INCONCLUSIVE \(emulation-gap\) on \*: not emulated \|/m);
  t.regex(md, /^## Variant `drop-invalid`: INCONCLUSIVE \(error\)$/m);

  const dir = copyOfFixture();
  const html = await renderHtml(docker, { ...faceted, resultsDir: dir });
  t.regex(html, /<p class="outcome"><b>Outcome<\/b>: connection reset: seen \(the client got ECONNRESET\)<\/p>/);
  t.regex(html, /<p class="mechanism"><b>Mechanism<\/b>: RST from the client host: not seen/);
  t.regex(html, /<td><b>INCONCLUSIVE \(error\)<\/b><\/td><td class="differs">/);
  t.regex(html, /<td class="unchecked">unchecked: no expectation for 5\.10\.223/);

  const json = verdictJson(faceted);
  t.is(json.kernel, '5.10.0-32-amd64');
  t.is(json.kernelVersion, '5.10.223');
  t.deepEqual(
    json.variants.map((v) => [v.name, v.verdict, v.inconclusive, v.check, v.matchesExpected]),
    [
      ['baseline', 'REPRODUCED', undefined, 'unchecked', null],
      ['drop-invalid', 'INCONCLUSIVE', 'error', 'differs', false],
    ],
  );
  t.deepEqual(json.variants[0]!.outcome, outcome);
  t.deepEqual(json.variants[0]!.mechanism, mechanism);

  const junit = renderJunit(faceted);
  t.regex(junit, /<property name="kernelVersion" value="5\.10\.223"\/>/);
  t.regex(
    junit,
    /<property name="verdict" value="REPRODUCED"\/><property name="outcome" value="connection reset: seen"\/><property name="mechanism" value="RST from the client host: not seen"\/><property name="expectation" value="unchecked"\/>/,
  );
  t.regex(
    junit,
    /<property name="verdict" value="INCONCLUSIVE"\/><property name="inconclusive" value="error"\/><property name="expectation" value="differs"\/>/,
  );
});

test('a saved run is read back with its check, and one saved before checks existed is checked as a run would be now', (t) => {
  const dir = copyOfFixture();
  const labJson = JSON.parse(fs.readFileSync(path.join(dir, 'lab.json'), 'utf8')) as { variants: Array<{ name: string; expect?: unknown[] }> };
  const gap = { kernel: '*', verdict: 'INCONCLUSIVE', why: 'saved before kinds', source: 'https://example.org/old' };
  labJson.variants = labJson.variants.map((v) => ({ ...v, expect: v.name === 'baseline' ? [gap] : [] }));
  fs.writeFileSync(path.join(dir, 'lab.json'), JSON.stringify(labJson));
  const verdicts = JSON.parse(fs.readFileSync(path.join(dir, 'verdict.json'), 'utf8')) as { variants: Array<Record<string, unknown>> };
  verdicts.variants[0] = { ...verdicts.variants[0], verdict: 'INCONCLUSIVE', expected: gap, matchesExpected: true };
  fs.writeFileSync(path.join(dir, 'verdict.json'), JSON.stringify(verdicts));
  const old = readRun(dir).run.variants[0]!;
  t.is(old.matchesExpected, false, 'an expected INCONCLUSIVE without a kind matches nothing now');

  const now = { ...verdicts, variants: verdicts.variants.map((v) => ({ ...v, check: 'matches' })) };
  fs.writeFileSync(path.join(dir, 'verdict.json'), JSON.stringify(now));
  t.is(readRun(dir).run.variants[0]!.matchesExpected, true, 'a run written with its check keeps it');
});
