/** listr2 progress for every long step; drawn on stderr so stdout stays clean for --json. */
import { Listr, ListrLogger, ProcessOutput, type ListrTask } from 'listr2';
import type { Step } from './steps.js';

export interface ProgressOptions {
  quiet?: boolean;
}

const output = () => new ProcessOutput(process.stderr, process.stderr);

export async function runSteps(steps: Step[], options: ProgressOptions = {}): Promise<void> {
  await runTasks(steps.map(toTask), options);
}

function toTask(step: Step): ListrTask {
  if (!step.parts?.length) {
    return {
      title: step.title,
      task: async (_ctx, task) => {
        const done = await step.run((text) => (task.output = text));
        if (typeof done === 'string') task.title = done;
      },
    };
  }
  return {
    title: step.title,
    task: (_ctx, task) => {
      // The step drives the parts (one process, many VMs): it runs beside them and the list ends when all have.
      const whole = step.run((text) => (task.output = text));
      whole.catch(() => undefined);
      return task.newListr([...step.parts!.map(toTask), { title: 'All done', task: () => whole }], { concurrent: true, exitOnError: true });
    },
  };
}

export async function runTasks<Ctx extends object>(tasks: Array<ListrTask<Ctx>>, options: ProgressOptions = {}, ctx?: Ctx): Promise<Ctx> {
  const list = new Listr<Ctx>(tasks, {
    concurrent: false,
    exitOnError: true,
    registerSignalListeners: false,
    silentRendererCondition: Boolean(options.quiet),
    fallbackRendererCondition: !process.stderr.isTTY,
    rendererOptions: { logger: new ListrLogger({ processOutput: output() }) },
    fallbackRendererOptions: { logger: new ListrLogger({ processOutput: output() }) },
    ctx,
  } as never);
  return list.run();
}
