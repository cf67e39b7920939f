import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startEmulator } from '../src/emulator/index.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb/duckdb-ledger.ts';

test('SIGTERM drains an in-flight stream, flushes its usage to the ledger, then exits', { timeout: 60_000 }, async () => {
  const emulator = await startEmulator({ port: 0 });
  const directory = mkdtempSync(join(tmpdir(), 'costgate-shutdown-'));
  const ledgerPath = join(directory, 'ledger.duckdb');
  const gateway = spawn(process.execPath, ['bin/costgate.js', 'serve', '--port', '0', '--ledger', ledgerPath], {
    env: { ...process.env, ANTHROPIC_BASE_URL: emulator.url, ANTHROPIC_API_KEY: 'sk-test' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      gateway.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/[^\s]+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      gateway.once('exit', (code) => reject(new Error(`gateway exited early (${code}): ${output}`)));
    });
    const exited = new Promise<number | null>((resolve) => gateway.once('exit', resolve));

    // About 1.2 s of tokens: the signal arrives mid-stream.
    const response = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-emulator-reply-tokens': '12', 'x-costgate-feature': 'drain' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5-emu-slow-stream', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    const requestId = response.headers.get('x-costgate-request-id') ?? '';
    const reader = response.body?.getReader();
    await reader?.read();
    gateway.kill('SIGTERM');
    let text = '';
    for (;;) {
      const part = await reader?.read();
      if (!part || part.done) break;
      text += Buffer.from(part.value).toString();
    }
    assert.match(text, /event: message_stop/, 'the stream ran to its end');
    assert.equal(await exited, 0);
    assert.match(output, /SIGTERM: draining/);

    const ledger = await openDuckDbLedger({ path: ledgerPath });
    const [row] = await ledger.get([requestId]);
    await ledger.close();
    assert.equal(row?.attribution.feature, 'drain');
    assert.equal(row?.usage.output.total, 12);
  } finally {
    gateway.kill('SIGKILL');
    await emulator.close();
    rmSync(directory, { recursive: true, force: true });
  }
});
