/** `run: { node, argv, undo?, mayFail }`: a network tool inside a node, its undo after the last step. */
import * as z from 'zod';
import { LabError } from '../../../errors.js';
import { stepKind } from '../kind.js';

/** Commands a `run` step may start on a node: network tools that act inside the node's namespace or host. */
export const RUN_COMMANDS = ['conntrack', 'ip', 'iptables', 'nft', 'ss', 'tc'] as const;
export const COMMAND_TOKEN = /^(!|[A-Za-z0-9_.:/,+=@%-]{1,128})$/;

export const run = stepKind({
  schema: (k) => {
    const commandToken = z.preprocess(
      (v) => (typeof v === 'number' ? String(v) : v),
      z.string().regex(COMMAND_TOKEN, 'a command token of 1 to 128 characters, without spaces or shell characters'),
    );
    const argv = z
      .array(commandToken)
      .min(1)
      .refine((a) => (RUN_COMMANDS as readonly string[]).includes(a[0]!), `a command starting with one of: ${RUN_COMMANDS.join(', ')}`)
      .refine((a) => !a.includes('netns'), 'a command that stays in its node ("netns" is not allowed)');
    return z.strictObject({ node: k.nodeName, argv, undo: argv.optional(), mayFail: z.boolean().default(false) });
  },
  check(spec, c, at) {
    c.node(spec.node, [...at, 'node']);
  },
  async execute(s, rt) {
    const out = await rt.exec(s.node, s.argv);
    rt.rec.commands.push({ node: s.node, argv: s.argv, exitCode: out.exitCode, output: (out.stdout + out.stderr).slice(0, 4000) });
    if (s.undo) rt.onUndo(async () => void (await rt.exec(s.node, s.undo!)));
    if (out.exitCode !== 0 && !s.mayFail) {
      const details = (out.stderr || out.stdout).trim().split('\n').slice(-3);
      throw new LabError(`${s.node}: ${s.argv.join(' ')} exited with ${out.exitCode}`, { details });
    }
  },
});
