import { startEmulator } from '../src/emulator/index.ts';
import { serveTarget } from './target-process.ts';

/** Child process: the zero-latency emulator every target ends at. Argument: reply length in tokens. */
serveTarget(async () => {
  const replyTokens = Number(process.argv[2] ?? 24);
  const emulator = await startEmulator({ port: 0, replyTokens });
  return {
    url: emulator.url,
    async close() {
      const facts = { requests: emulator.requests, abortedRequests: emulator.abortedRequests };
      await emulator.close();
      return facts;
    },
  };
});
