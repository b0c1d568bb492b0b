/**
 * A command line read without yargs, whose import costs more than Node's own start. The command's builder is run
 * against a recorder that notes its positionals and options; a line made only of those, well-formed, is read here into
 * the same argv yargs would give the handler. Anything else (help, a typo, a short or negated flag, `--`, a repeated
 * option other than an array's, an array option followed by more than its one value, a value outside the choices, a
 * builder calling more than positional/option/options) returns undefined, and yargs reads the line as always: its
 * messages and exit codes stay the only ones.
 */

/** The part of a yargs option or positional declaration read here. */
interface Declared {
  type?: string;
  default?: unknown;
  choices?: readonly unknown[];
  array?: boolean;
  demandOption?: boolean | string;
}

interface Declarations {
  positionals: Map<string, Declared>;
  options: Map<string, Declared>;
  /** The builder used something the recorder does not model. */
  unknown: boolean;
}

export interface CommandModule {
  command: string;
  builder?: unknown;
  handler: (argv: Record<string, unknown>) => Promise<void> | void;
}

/** Runs the builder on a recorder of positional(), option() and options(); any other call marks the command unknown. */
export function declarationsOf(builder: unknown): Declarations {
  const found: Declarations = { positionals: new Map(), options: new Map(), unknown: false };
  const addOptions = (record: Record<string, Declared>) => {
    for (const [name, declared] of Object.entries(record)) found.options.set(name, declared);
  };
  if (typeof builder === 'object' && builder !== null) addOptions(builder as Record<string, Declared>);
  else if (typeof builder === 'function') {
    const recorder: object = new Proxy(
      {},
      {
        get:
          (_target, key) =>
          (...args: unknown[]) => {
            if (key === 'positional') found.positionals.set(args[0] as string, (args[1] ?? {}) as Declared);
            else if (key === 'option') found.options.set(args[0] as string, (args[1] ?? {}) as Declared);
            else if (key === 'options') addOptions(args[0] as Record<string, Declared>);
            else found.unknown = true;
            return recorder;
          },
      },
    );
    (builder as (y: object) => unknown)(recorder);
  } else if (builder !== undefined) found.unknown = true;
  return found;
}

/** `validate <lab>` -> [{ name: 'lab', required: true }]; undefined for a variadic (`[cmd..]`) or an unreadable template. */
function positionalSlots(command: string): Array<{ name: string; required: boolean }> | undefined {
  const slots: Array<{ name: string; required: boolean }> = [];
  for (const token of command.trim().split(/\s+/).slice(1)) {
    const match = /^(<|\[)([a-z][a-z0-9-]*)(>|\])$/.exec(token);
    if (!match || (match[1] === '<') !== (match[3] === '>')) return undefined;
    slots.push({ name: match[2]!, required: match[1] === '<' });
  }
  return slots;
}

const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function setBoth(argv: Record<string, unknown>, name: string, value: unknown): void {
  argv[name] = value;
  if (name.includes('-')) argv[camel(name)] = value;
}

/** A value of a declared string or number option, or undefined when yargs should judge it. */
function valueOf(declared: Declared, text: string): string | number | undefined {
  if (declared.choices && !declared.choices.includes(text)) return undefined;
  if (declared.type === 'string') return text;
  if (declared.type === 'number' && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return undefined;
}

/** The argv yargs would hand the command's handler for args (args[0] is the command's name), or undefined. */
export function quickArgs(module: CommandModule, args: readonly string[]): Record<string, unknown> | undefined {
  const slots = positionalSlots(module.command);
  const declared = declarationsOf(module.builder);
  if (!slots || declared.unknown) return undefined;
  const argv: Record<string, unknown> = { _: [args[0]], $0: 'lab' };
  const seen = new Set<string>();
  const positionals: string[] = [];
  for (let i = 1; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (!match) return undefined;
    const [, name, inline] = match as unknown as [string, string, string | undefined];
    const option = declared.options.get(name);
    if (!option || (seen.has(name) && !option.array)) return undefined;
    seen.add(name);
    if (option.type === 'boolean') {
      // `--flag true` and `--flag=false` are yargs' to read.
      if (inline !== undefined || args[i + 1] === 'true' || args[i + 1] === 'false') return undefined;
      setBoth(argv, name, true);
      continue;
    }
    const text = inline ?? args[++i];
    if (text === undefined || text === '' || text.startsWith('-')) return undefined;
    const value = valueOf(option, text);
    if (value === undefined) return undefined;
    if (option.array) {
      // One value per flag (`--variant a --variant b`); yargs would also take the words after it (`--variant a b`).
      if (args[i + 1] !== undefined && !args[i + 1]!.startsWith('-')) return undefined;
      setBoth(argv, name, [...((argv[name] as unknown[] | undefined) ?? []), value]);
    } else setBoth(argv, name, value);
  }
  if (positionals.length > slots.length) return undefined;
  for (const [i, slot] of slots.entries()) {
    const text = positionals[i];
    const declaredSlot = declared.positionals.get(slot.name) ?? {};
    if (text === undefined) {
      if (slot.required || declaredSlot.demandOption) return undefined;
      continue;
    }
    if (declaredSlot.type !== 'string' || declaredSlot.array || (declaredSlot.choices && !declaredSlot.choices.includes(text))) return undefined;
    setBoth(argv, slot.name, text);
  }
  for (const [name, option] of declared.options) {
    if (seen.has(name)) continue;
    if (option.demandOption) return undefined;
    if (option.default !== undefined) setBoth(argv, name, option.default);
  }
  return argv;
}
