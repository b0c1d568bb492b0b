/** JSON lines: one message per line, split across or joined within socket chunks in any way. */
export class LineDecoder {
  private buffered = '';

  /** Feed a chunk; returns the complete messages it finished (lines that are not JSON objects are skipped). */
  push(chunk: string): Array<Record<string, unknown>> {
    this.buffered += chunk;
    const lines = this.buffered.split('\n');
    this.buffered = lines.pop() ?? '';
    return lines.flatMap((line) => {
      if (!line.trim()) return [];
      try {
        const value = JSON.parse(line) as unknown;
        return value && typeof value === 'object' && !Array.isArray(value) ? [value as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
  }
}

export function encodeMessage(message: Record<string, unknown>): string {
  return `${JSON.stringify(message)}\n`;
}
