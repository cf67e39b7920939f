import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { convertRouteLlmResponses, convertRouterBench } from '../analytics/routing/convert-datasets.ts';
import { serializeRoutingExample, type RoutingExample } from '../analytics/routing/routing-dataset.ts';
import { CliError } from './cli-error.ts';

export const ROUTER_CONVERT_HELP = `costgate router convert routellm|routerbench --input PATH --out FILE
  Converts RouteLLM response tables (prompt + one boolean column per model; contaminated prompts
  dropped) or RouterBench tables (per-model 0/1 outcomes and <model>|total_cost) to routing JSONL.`;

export async function routerConvertCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: { input: { type: 'string' }, out: { type: 'string' } }, allowPositionals: true, strict: true });
  const kind = positionals[0];
  if (kind !== 'routellm' && kind !== 'routerbench') throw new CliError('router convert needs a layout: routellm or routerbench');
  if (!values.input || !values.out) throw new CliError('router convert needs --input PATH and --out FILE');
  let examples: RoutingExample[];
  let dropped: number;
  try {
    ({ examples, dropped } = kind === 'routellm' ? convertRouteLlmResponses(values.input) : convertRouterBench(values.input));
  } catch (error) {
    throw new CliError(`router convert: ${(error as Error).message}`);
  }
  writeFileSync(values.out, examples.map(serializeRoutingExample).join('\n') + '\n');
  const models = Object.keys(examples[0]?.outcomes ?? {});
  console.log(`wrote ${examples.length} examples (${dropped} dropped) for ${models.length} models to ${values.out}`);
}
