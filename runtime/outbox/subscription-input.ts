import { RuntimeError } from '../errors.ts';
import { patternProblem } from './event-filter.ts';
import { secretProblem } from './webhook-signature.ts';

/** Longest webhook URL accepted. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** What a caller gives to create a webhook subscription. */
export interface WebhookInput {
  url: string;
  /** Patterns (see `event-filter.ts`); default `["*"]`. */
  eventTypes?: string[];
  /** `whsec_…`; default: a new random one, returned once by the creation. */
  secret?: string;
  description?: string;
}

/**
 * Checks a webhook subscription's values; throws `invalid_argument` naming the field. The URL must be an
 * absolute http(s) URL without credentials (they would be stored and logged in clear) or a fragment, at most
 * 2048 characters.
 */
export function checkWebhookInput(input: WebhookInput): void {
  const bad = (field: string, problem: string) =>
    RuntimeError.invalidArgument('outbox.createWebhook', `${field}: ${problem}`, { field, problem });
  if (typeof input.url !== 'string' || input.url.length === 0) throw bad('url', 'a URL is required');
  if (input.url.length > MAX_WEBHOOK_URL_LENGTH) throw bad('url', `at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw bad('url', 'not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad('url', `only http and https URLs (not ${url.protocol})`);
  if (url.username || url.password) throw bad('url', 'credentials in the URL are not accepted; authenticate by the signature');
  if (!url.hostname) throw bad('url', 'a host is required');
  if (url.hash) throw bad('url', 'a fragment is never sent; remove it');
  if (input.eventTypes !== undefined) {
    const problem = patternProblem(input.eventTypes);
    if (problem) throw bad('eventTypes', problem);
  }
  if (input.secret !== undefined) {
    const problem = secretProblem(input.secret);
    if (problem) throw bad('secret', problem);
  }
  if (input.description !== undefined && (typeof input.description !== 'string' || input.description.length > 500))
    throw bad('description', 'at most 500 characters');
}
