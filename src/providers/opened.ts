/** Providers holding connections (ssh) that must be closed when a command ends; no imports, so the CLI can load it cheaply. */
const opened: Array<{ close?(): void }> = [];

export function trackOpened(provider: { close?(): void }): void {
  opened.push(provider);
}

export function closeProviders(): void {
  for (const p of opened.splice(0)) p.close?.();
}
