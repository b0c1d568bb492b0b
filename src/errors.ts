/** The one error type a user sees: a message, optional details (one per problem) and a hint. */
export class LabError extends Error {
  readonly details: string[];
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: { details?: string[]; hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'LabError';
    this.details = options.details ?? [];
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 2;
  }
}

/** Exit codes: 0 all verdicts decided, 1 an INCONCLUSIVE verdict or a failed operation, 2 usage or lab-file error. */
export const EXIT = { ok: 0, inconclusive: 1, failure: 1, usage: 2 } as const;

export function formatError(error: LabError): string {
  const lines = [`error: ${error.message}`];
  for (const detail of error.details) lines.push(`  - ${detail}`);
  if (error.hint) lines.push(`hint: ${error.hint}`);
  return lines.join('\n');
}
