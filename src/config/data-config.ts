import { z } from 'zod';
import { REDACTION_KINDS } from '../core/redaction.ts';

/**
 * `data` in costgate.yaml: what the gateway keeps of a call's content. By default nothing: the
 * ledger holds token counts, costs and a hashed key id, never prompt or response text.
 *
 *   data:
 *     storeBodies: true          # keep request and response bodies, redacted, per request id
 *     redact: [email, api_key, card_number]
 *     maxStoredBytes: 65536      # per body; longer bodies are cut (and marked truncated)
 *     retentionDays: 30
 */
export const dataConfigSchema = z.strictObject({
  storeBodies: z.boolean().default(false),
  /** Kinds of value replaced before a body is written; all of them unless the list says otherwise. */
  redact: z.array(z.enum(REDACTION_KINDS)).default([...REDACTION_KINDS]),
  maxStoredBytes: z
    .number()
    .int()
    .min(1024)
    .default(64 * 1024),
  /** Daily body files older than this are deleted. */
  retentionDays: z.number().int().positive().default(30),
  /** Folder of the daily body files; default `<ledger folder>/bodies`. */
  path: z.string().min(1).optional(),
});

export type DataConfig = z.infer<typeof dataConfigSchema>;

export const DATA_DEFAULTS: DataConfig = { storeBodies: false, redact: [...REDACTION_KINDS], maxStoredBytes: 64 * 1024, retentionDays: 30 };
