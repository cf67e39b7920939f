import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, InvokeModelCommand, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { startEmulator } from './index.ts';
const emu = await startEmulator();
const openai = new OpenAI({ apiKey: 'x', baseURL: emu.url + '/v1', maxRetries: 0 });
const c = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
console.log(JSON.stringify(c));
const s = await openai.chat.completions.create({ model: 'o3', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true }, max_completion_tokens: 40 });
let text = ''; for await (const ch of s) { text += ch.choices[0]?.delta.content ?? ''; if (ch.usage) console.log('usage', ch.usage); }
console.log(text);
const r = await openai.responses.create({ model: 'gpt-4o', input: 'hello', max_output_tokens: 10 });
console.log(r.status, r.output_text, r.usage);
const rs = openai.responses.stream({ model: 'o3', input: 'hello' });
const fin = await rs.finalResponse(); console.log(fin.status, fin.output_text, fin.usage);
const e = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'], dimensions: 8 });
console.log(e.data[0]?.embedding, e.usage);
console.log((await openai.models.list()).data.length);
const anthropic = new Anthropic({ apiKey: 'x', baseURL: emu.url, maxRetries: 0 });
const m = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
console.log(JSON.stringify(m));
const ms = anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
console.log(JSON.stringify(await ms.finalMessage()));
const bedrock = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
const cv = await bedrock.send(new ConverseCommand({ modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0', messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
console.log(JSON.stringify(cv.output), cv.usage, cv.stopReason);
const cs = await bedrock.send(new ConverseStreamCommand({ modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0', messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
for await (const ev of cs.stream!) { if (ev.metadata) console.log('meta', ev.metadata); if (ev.messageStop) console.log(ev.messageStop); }
const inv = await bedrock.send(new InvokeModelCommand({ modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0', body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }) }));
console.log(new TextDecoder().decode(inv.body));
const invs = await bedrock.send(new InvokeModelWithResponseStreamCommand({ modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0', body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }) }));
for await (const ev of invs.body!) { const j = JSON.parse(new TextDecoder().decode(ev.chunk!.bytes)); if (j.type !== 'content_block_delta') console.log(j.type, JSON.stringify(j).slice(0, 300)); }
const t = await bedrock.send(new InvokeModelCommand({ modelId: 'amazon.titan-embed-text-v2:0', body: JSON.stringify({ inputText: 'hello', dimensions: 256 }) }));
console.log(new TextDecoder().decode(t.body).slice(0, 100));
try { await bedrock.send(new ConverseCommand({ modelId: 'x-emu-429', messages: [{ role: 'user', content: [{ text: 'hi' }] }] })); } catch (err: any) { console.log(err.name, err.$metadata.httpStatusCode, err.message); }
try { await anthropic.messages.create({ model: 'claude-emu-529', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }); } catch (err: any) { console.log(err.constructor.name, err.status, err.message); }
try { await openai.chat.completions.create({ model: 'gpt-emu-429', messages: [{ role: 'user', content: 'hi' }] }); } catch (err: any) { console.log(err.constructor.name, err.status, err.message, err.headers.get('retry-after')); }
console.log(emu.requests, emu.abortedRequests);
await emu.close();
