/** Quoting for the places a value becomes code: a POSIX shell word, a Ruby string literal. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A double-quoted Ruby string with nothing interpolated: backslash, quote and '#' are escaped, control characters spelled out. */
export function rubyString(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this escapes
  const body = value.replace(/[\\"#]/g, (c) => `\\${c}`).replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `"${body}"`;
}
