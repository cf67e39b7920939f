import { parseArgs } from 'node:util';
import { startEmulator } from '../emulator/index.ts';
import { parseInteger } from './cli-error.ts';
import { waitForShutdown } from './serve.ts';

export const EMULATE_HELP = `costgate emulate [--port 4142] [--host 127.0.0.1] [--reply-tokens 24] [--latency-ms 0]
  Starts the provider emulator: OpenAI, Anthropic and Bedrock runtime wire formats, with prompt caching.`;

export async function emulateCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, host: { type: 'string' }, 'reply-tokens': { type: 'string' }, 'latency-ms': { type: 'string' } },
    strict: true,
  });
  const replyTokens = parseInteger(values['reply-tokens'], '--reply-tokens', 1);
  const latencyMs = parseInteger(values['latency-ms'], '--latency-ms');
  const emulator = await startEmulator({
    port: parseInteger(values.port, '--port') ?? 4142,
    ...(values.host ? { host: values.host } : {}),
    ...(replyTokens !== undefined ? { replyTokens } : {}),
    ...(latencyMs !== undefined ? { latencyMs } : {}),
  });
  const log = (line: string) => console.error(`[emulator] ${line}`);
  log(`listening on ${emulator.url}`);
  log(`use it as an upstream: OPENAI_BASE_URL=${emulator.url}/v1 ANTHROPIC_BASE_URL=${emulator.url} AWS_ENDPOINT_URL_BEDROCK_RUNTIME=${emulator.url}`);
  await waitForShutdown(() => emulator.close(), log);
}
