/**
 * The Debian kernels a lab can name, by series (5.10, 6.1, 6.12) and by the suite that ships it. Data only, so that lab
 * files can be checked against it; src/kernels/kernel-names.ts fetches and boots them.
 */
export const SUITES: ReadonlyArray<{ suite: string; series: string }> = [
  { suite: 'bullseye', series: '5.10' },
  { suite: 'bookworm', series: '6.1' },
  { suite: 'trixie', series: '6.12' },
];

/** The series a name gives (a series or a suite, any case), or undefined. */
export function seriesNamed(name: string): string | undefined {
  const value = name.trim().toLowerCase();
  return SUITES.find((s) => s.series === value || s.suite === value)?.series;
}
