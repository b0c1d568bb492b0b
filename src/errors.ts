/** The one error type a user sees: a message, optional details (one per problem) and a hint. */

/**
 * Exit statuses, the only place they are numbered: 0 all verdicts decided, 1 an INCONCLUSIVE verdict or a failed operation,
 * 2 usage or lab-file error, 141 (128 + SIGPIPE, what a shell reports for `yes | head -1`) the output's reader went away.
 */
export const EXIT = { ok: 0, inconclusive: 1, failure: 1, usage: 2, internal: 70, outputClosed: 141 } as const;

/** usage: the command line or a lab file is wrong (the default); failure: an operation failed. */
export type ErrorKind = 'usage' | 'failure';

export class LabError extends Error {
  readonly details: string[];
  readonly hint: string | undefined;
  readonly kind: ErrorKind;

  constructor(message: string, options: { details?: string[]; hint?: string; kind?: ErrorKind; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'LabError';
    this.details = options.details ?? [];
    this.hint = options.hint;
    this.kind = options.kind ?? 'usage';
  }

  get exitCode(): number {
    return EXIT[this.kind];
  }
}

export function formatError(error: LabError): string {
  const lines = [`error: ${error.message}`];
  for (const detail of error.details) lines.push(`  - ${detail}`);
  if (error.hint) lines.push(`hint: ${error.hint}`);
  return lines.join('\n');
}
