import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anthropicContextDocuments } from '../../providers/anthropic/anthropic-context-documents.ts';
import { openAIChatContextDocuments } from '../../providers/openai/openai-context-documents.ts';
import { bm25Scores } from './bm25.ts';
import { bm25Reranker, createCrossEncoderReranker, type TransformersModule } from './reranker.ts';
import { selectDocuments } from './select-documents.ts';

const DOCUMENTS = [
  'Our office dog is named Biscuit and loves long walks.',
  'To rotate an API key, open Settings, choose Keys and click Rotate; the old key stops working after 24 hours.',
  'Quarterly revenue grew in every region.',
  'API keys can be scoped to one project. Rotating keys regularly is recommended.',
];

test('BM25 ranks the documents that share the question’s rarer words first', () => {
  const scores = bm25Scores('How do I rotate my API key?', DOCUMENTS);
  const order = scores.map((score, index) => ({ score, index })).sort((a, b) => b.score - a.score).map(({ index }) => index);
  assert.deepEqual(order.slice(0, 2).sort(), [1, 3]);
  assert.equal(scores[0], 0);
  assert.equal(scores[2], 0);
});

test('selection: pinned kept, top-k and budget honoured, minimum kept, original order', () => {
  const candidates = [
    { score: 0.1, tokens: 100, pinned: false },
    { score: 5, tokens: 100, pinned: false },
    { score: 0, tokens: 50, pinned: true },
    { score: 3, tokens: 100, pinned: false },
  ];
  assert.deepEqual(selectDocuments(candidates, { topK: 2, maxTokens: undefined, minDocuments: 1 }), [1, 2]);
  assert.deepEqual(selectDocuments(candidates, { topK: undefined, maxTokens: 260, minDocuments: 1 }), [1, 2, 3]);
  assert.deepEqual(selectDocuments([{ score: 1, tokens: 900, pinned: false }], { topK: undefined, maxTokens: 10, minDocuments: 1 }), [0]);
});

test('the cross-encoder adapter scores pairs through the transformers interface, loading once', async () => {
  let loads = 0;
  const fake: TransformersModule = {
    env: { allowRemoteModels: true },
    AutoTokenizer: {
      from_pretrained: async () => (texts: string[], options: { text_pair: string[] }) => ({ pairs: texts.map((text, index) => [text, options.text_pair[index]]) }),
    },
    AutoModelForSequenceClassification: {
      from_pretrained: async (_model: string, options?: Record<string, unknown>) => {
        loads += 1;
        assert.equal(options?.['local_files_only'], true);
        return async (inputs: unknown) => {
          const pairs = (inputs as { pairs: Array<[string, string]> }).pairs;
          return { logits: { data: pairs.map(([, document]) => (document.includes('Rotate') ? 9 : 1)), dims: [pairs.length, 1] } };
        };
      },
    },
  };
  const reranker = createCrossEncoderReranker({ model: 'local/ms-marco', load: async () => fake });
  assert.deepEqual(await reranker.score('rotate key', DOCUMENTS), [1, 9, 1, 1]);
  await reranker.score('again', DOCUMENTS.slice(0, 1));
  assert.equal(loads, 1);
  assert.equal(fake.env?.allowRemoteModels, false);
  const missing = createCrossEncoderReranker({ model: 'x', load: async () => Promise.reject(new Error('not installed')) });
  await assert.rejects(missing.score('q', ['d']), /not installed/);
  assert.deepEqual(await bm25Reranker.score('dog', ['a dog', 'a cat']).then((scores) => scores.map((score) => score > 0)), [true, false]);
});

test('OpenAI markers: message- and part-level documents, the question, removal and stripping', () => {
  const body: Record<string, unknown> = {
    messages: [
      { role: 'system', content: 'Answer from the documents.' },
      { role: 'user', 'x-costgate-context': true, content: [{ type: 'text', text: DOCUMENTS[0] }, { type: 'text', text: DOCUMENTS[1] }] },
      { role: 'user', content: [{ type: 'text', text: DOCUMENTS[3], 'x-costgate-context': true }, { type: 'text', text: 'How do I rotate my API key?' }] },
    ],
  };
  const marked = openAIChatContextDocuments.find(body);
  assert.ok(marked);
  assert.equal(marked.query, 'How do I rotate my API key?');
  assert.equal(marked.documents.length, 3);
  marked.remove(new Set([0, 2]));
  assert.equal(openAIChatContextDocuments.stripMarkers(body), true);
  assert.deepEqual(body['messages'], [
    { role: 'system', content: 'Answer from the documents.' },
    { role: 'user', content: [{ type: 'text', text: DOCUMENTS[1] }] },
    { role: 'user', content: [{ type: 'text', text: 'How do I rotate my API key?' }] },
  ]);
});

test('Anthropic blocks: documents and search results; cache_control pins, citations block trimming', () => {
  const content = [
    { type: 'document', source: { type: 'text', media_type: 'text/plain', data: DOCUMENTS[0] } },
    { type: 'search_result', source: 'kb://keys', title: 'Keys', content: [{ type: 'text', text: DOCUMENTS[1] }] },
    { type: 'document', source: { type: 'text', media_type: 'text/plain', data: DOCUMENTS[2] }, cache_control: { type: 'ephemeral' } },
    { type: 'text', text: 'How do I rotate my API key?' },
  ];
  const body: Record<string, unknown> = { messages: [{ role: 'user', content }] };
  const marked = anthropicContextDocuments.find(body);
  assert.ok(marked);
  assert.deepEqual(marked.documents.map(({ pinned }) => pinned), [false, false, true]);
  assert.equal(marked.blocked, undefined);
  marked.remove(new Set([0]));
  assert.deepEqual(content.map((block) => block.type), ['search_result', 'document', 'text']);
  const cited = { messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', data: 'x' }, citations: { enabled: true } }, { type: 'text', text: 'q' }] }] };
  assert.match(anthropicContextDocuments.find(cited)?.blocked ?? '', /citations/);
});
