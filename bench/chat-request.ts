import type { LoadRequest } from './load.ts';

/**
 * A realistic ~2 KB Chat Completions request: a support assistant's system prompt plus a user
 * question that quotes some context, as an application would send it.
 */

const SYSTEM_PROMPT = [
  'You are the support assistant for Northwind Cloud, a hosting provider for small and medium businesses.',
  'Answer in the language of the question, in at most three short paragraphs, and never invent prices,',
  'limits or dates that are not in the context below. When the answer depends on the customer plan, say',
  'which plans it applies to. If the question is about billing disputes, refunds or account ownership,',
  'explain the steps but tell the customer that a human agent must confirm the outcome.',
  'Plans: Starter (1 vCPU, 2 GB RAM, 50 GB SSD, daily backups kept 7 days), Business (4 vCPU, 16 GB RAM,',
  '200 GB SSD, hourly backups kept 30 days, 99.95% uptime commitment) and Enterprise (dedicated hosts,',
  'custom backup policy, 99.99% uptime commitment, named technical account manager).',
  'Policies: backups can be restored from the control panel under Storage > Snapshots; a restore replaces',
  'the volume and takes about 10 minutes per 50 GB. Deleted servers keep their last backup for 14 days.',
  'Support hours are 24/7 for Business and Enterprise, and 08:00-20:00 CET on weekdays for Starter.',
].join(' ');

const USER_QUESTION = [
  'Hi, our shop runs on a Business plan server (web-02). Yesterday at about 16:40 a deploy script wiped',
  'the uploads folder, roughly 38 GB of product photos. The newest snapshot I can see is from 16:00.',
  'Two questions: if I restore it now, how long will the shop be down, and will I lose the orders that',
  'customers placed between 16:00 and now? The orders live in a managed database, not on the server disk.',
  'Also, is there a way to restore only the uploads folder instead of the whole volume, so the rest of the',
  'server keeps running? We would rather not take the shop offline during opening hours if we can avoid it.',
  'Last thing: my colleague says snapshots older than a week are deleted on our plan. Is that right?',
].join(' ');

export const CHAT_PATH = '/v1/chat/completions';
export const CHAT_MODEL = 'gpt-4o-mini';

export function chatRequest(stream: boolean): LoadRequest {
  const body = {
    model: CHAT_MODEL,
    messages: [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: USER_QUESTION },
    ],
    temperature: 0.3,
    max_tokens: 400,
    user: 'customer-1042',
    ...(stream ? { stream: true } : {}),
  };
  return {
    path: CHAT_PATH,
    headers: ['content-type', 'application/json', 'authorization', 'Bearer sk-bench', 'user-agent', 'costgate-bench/1'],
    body: Buffer.from(JSON.stringify(body)),
  };
}
