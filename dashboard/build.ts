import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/** Bundles the dashboard (plain TypeScript + uPlot) into `outDir`: index.html, app.js, app.css. */
export async function buildDashboard(outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { app: join(here, 'src', 'main.ts') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    outdir: outDir,
    logLevel: 'silent',
  });
  copyFileSync(join(here, 'src', 'index.html'), join(outDir, 'index.html'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  await buildDashboard(join(here, 'dist'));
  console.error(`dashboard built in ${Math.round(performance.now() - started)} ms`);
}
