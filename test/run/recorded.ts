/** Evidence recorded from real runs (test/fixtures/runs/<lab>/<variant>/), for judge and analysis tests. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VerdictValue } from '../../src/run/verdict.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function recordedDir(lab: string, variant: string): string {
  return path.join(root, 'test', 'fixtures', 'runs', lab, variant);
}

export interface Recorded<E> {
  verdict: VerdictValue;
  reason: string;
  evidence: E;
}

export function recorded<E>(lab: string, variant: string): Recorded<E> {
  return JSON.parse(fs.readFileSync(path.join(recordedDir(lab, variant), 'evidence.json'), 'utf8')) as Recorded<E>;
}

export function recordedFile(lab: string, variant: string, file: string): string {
  return path.join(recordedDir(lab, variant), file);
}
