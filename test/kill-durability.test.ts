import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startEmulator } from '../src/emulator/index.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb/duckdb-ledger.ts';
import { createUsageRecorder } from '../src/ledger/usage-recorder.ts';
import { defaultSpoolDir } from '../src/server/start-gateway.ts';

test('kill -9 of the gateway in the middle of traffic loses no acknowledged usage event', { timeout: 60_000 }, async () => {
  const emulator = await startEmulator({ port: 0 });
  const directory = mkdtempSync(join(tmpdir(), 'costgate-kill-'));
  const ledgerPath = join(directory, 'ledger.duckdb');
  const gateway = spawn(process.execPath, ['bin/costgate.js', 'serve', '--port', '0', '--ledger', ledgerPath], {
    env: { ...process.env, OPENAI_BASE_URL: `${emulator.url}/v1`, OPENAI_API_KEY: 'sk-test' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let output = '';
      gateway.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/[^\s]+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      gateway.once('exit', (code) => reject(new Error(`gateway exited early (${code}): ${output}`)));
    });

    const acknowledged: string[] = [];
    let killed = false;
    const worker = async (index: number) => {
      for (let round = 0; !killed; round++) {
        try {
          const response = await fetch(`${url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-costgate-feature': 'durability' },
            body: JSON.stringify({ model: 'gpt-4o-mini', stream: round % 2 === 0, messages: [{ role: 'user', content: `w${index} r${round}` }] }),
          });
          await response.text();
          // A complete response is an acknowledged call: its usage must survive.
          if (response.ok) acknowledged.push(response.headers.get('x-costgate-request-id') ?? '');
        } catch {
          return;
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, index) => worker(index));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    gateway.kill('SIGKILL');
    killed = true;
    await Promise.all(workers);
    assert.ok(acknowledged.length > 50, `enough traffic before the kill (${acknowledged.length})`);

    // The next start replays the spool; do the same here without a server.
    const ledger = await openDuckDbLedger({ path: ledgerPath });
    const recorder = await createUsageRecorder({ ledger, spoolDir: defaultSpoolDir(ledgerPath) });
    await recorder.close();
    const rows = await ledger.get(acknowledged);
    assert.equal(rows.length, acknowledged.length, 'every acknowledged call is in the ledger');
    assert.equal(new Set(rows.map((row) => row.requestId)).size, acknowledged.length, 'and exactly once');
    await ledger.close();
  } finally {
    gateway.kill('SIGKILL');
    await emulator.close();
    rmSync(directory, { recursive: true, force: true });
  }
});
