import { startEmulator } from '../src/emulator/index.ts';

/** Child process for bench/batch.ts: the emulator with instant batch lifecycles, so its memory is not the orchestrator's. */
const emulator = await startEmulator({ port: 0, replyTokens: 8, batchTiming: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
process.stdout.write(`${emulator.url}\n`);
process.on('SIGTERM', () => {
  void emulator.close().finally(() => process.exit(0));
});
