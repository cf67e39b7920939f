import { CliError } from './cli-error.ts';
import { ROUTER_CONVERT_HELP, routerConvertCommand } from './router-convert.ts';
import { ROUTER_EVAL_HELP, routerEvalCommand } from './router-eval.ts';
import { ROUTER_TRAIN_HELP, routerTrainCommand } from './router-train.ts';

export const ROUTER_HELP = [ROUTER_TRAIN_HELP, ROUTER_EVAL_HELP, ROUTER_CONVERT_HELP].join('\n');

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  train: routerTrainCommand,
  eval: routerEvalCommand,
  convert: routerConvertCommand,
};

/** `costgate router train|eval|convert`: the routing classifier, offline. */
export async function routerCommand(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  const subcommand = name ? SUBCOMMANDS[name] : undefined;
  if (!subcommand) throw new CliError(`router needs a subcommand: ${Object.keys(SUBCOMMANDS).join(', ')}`);
  await subcommand(rest);
}
