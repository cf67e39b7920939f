import { startBareProxy } from './bare-proxy.ts';
import { serveTarget } from './target-process.ts';

/** Child process: the bare passthrough proxy. Argument: the emulator's URL. */
serveTarget(async () => {
  const upstream = process.argv[2];
  if (!upstream) throw new Error('usage: run-bare-proxy.ts <upstream url>');
  const proxy = await startBareProxy({ upstream });
  return {
    url: proxy.url,
    async close() {
      await proxy.close();
      return {};
    },
  };
});
