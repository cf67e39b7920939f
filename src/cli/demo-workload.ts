/**
 * A small, realistic mixed workload for the demo: several features and customers, chat and RAG
 * shapes, all three providers, streamed and not, one model without a known price.
 * Sent with plain fetch in each provider's wire format, exactly as an SDK would send it.
 */

export interface DemoRequest {
  path: string;
  body: unknown;
  headers: Record<string, string>;
}

const CUSTOMERS = ['acme', 'globex', 'initech', 'umbrella'];

const SUPPORT_POLICY = Array.from(
  { length: 60 },
  (_, index) =>
    `Policy ${index + 1}: refunds for annual plans are prorated by unused full months; escalate billing disputes over $500 to a human agent; never promise delivery dates for hardware orders.`,
).join('\n');

const RETRIEVED = Array.from(
  { length: 40 },
  (_, index) =>
    `[doc ${index + 1}] The ingestion service batches events every 500 ms, retries with exponential backoff, and stores a checkpoint per partition so a restart resumes where it left off.`,
).join('\n');

const QUESTIONS = [
  'How do I get a refund for my annual plan?',
  'Can you explain why my invoice doubled this month?',
  'What happens to my data if I cancel?',
  'How do I add a teammate to my workspace?',
  'Why was my card declined?',
];

function headers(feature: string, customer: string): Record<string, string> {
  return { 'content-type': 'application/json', 'x-costgate-feature': feature, 'x-costgate-customer': customer };
}

export function demoWorkload(): DemoRequest[] {
  const requests: DemoRequest[] = [];
  for (let round = 0; round < 6; round++) {
    for (const [index, customer] of CUSTOMERS.entries()) {
      const question = QUESTIONS[(round + index) % QUESTIONS.length] ?? '';
      // Support chat on Anthropic with a cached policy prompt.
      requests.push({
        path: '/v1/messages',
        headers: { ...headers('support-chat', customer), 'anthropic-version': '2023-06-01', 'x-api-key': 'demo' },
        body: {
          model: 'claude-sonnet-4-5',
          max_tokens: 256,
          stream: round % 2 === 1,
          system: [{ type: 'text', text: `You are Acme's support assistant.\n${SUPPORT_POLICY}`, cache_control: { type: 'ephemeral' } }],
          messages: [{ role: 'user', content: question }],
        },
      });
      // RAG over retrieved documents on OpenAI (automatic prefix caching past 1,024 tokens).
      requests.push({
        path: '/v1/chat/completions',
        headers: { ...headers('doc-search', customer), authorization: 'Bearer demo' },
        body: {
          model: 'gpt-4o-mini',
          stream: round % 3 === 0,
          messages: [
            { role: 'system', content: `Answer from these documents only.\n${RETRIEVED}` },
            { role: 'user', content: `How does the ingestion service recover after a restart? (${customer}, ${round})` },
          ],
        },
      });
      // Summaries on Bedrock Converse.
      if (round % 2 === 0) {
        requests.push({
          path: `/model/${encodeURIComponent('anthropic.claude-3-5-haiku-20241022-v1:0')}/converse`,
          headers: headers('ticket-summary', customer),
          body: {
            messages: [{ role: 'user', content: [{ text: `Summarize this ticket thread for ${customer}: ${question} ${RETRIEVED.slice(0, 600)}` }] }],
            inferenceConfig: { maxTokens: 200 },
          },
        });
      }
    }
  }
  for (const customer of CUSTOMERS) {
    requests.push({
      path: '/v1/embeddings',
      headers: { ...headers('doc-search', customer), authorization: 'Bearer demo' },
      body: { model: 'text-embedding-3-small', input: QUESTIONS },
    });
    // A fine-tuned model nobody has a price for: recorded as unpriced, never $0.
    requests.push({
      path: '/v1/chat/completions',
      headers: { ...headers('legacy-classifier', customer), authorization: 'Bearer demo' },
      body: { model: 'ft:acme-classifier-v3', messages: [{ role: 'user', content: 'Classify: "my invoice is wrong"' }] },
    });
  }
  return requests;
}
