import { signWebhook } from './webhook-signature.ts';

/** One webhook request to make. */
export interface WebhookRequest {
  url: string;
  secret: string;
  /** `webhook-id`: the delivery id, the same on every attempt (receivers deduplicate by it). */
  id: string;
  body: string;
  timeoutMs: number;
  /** Aborted when the runtime stops. */
  signal: AbortSignal;
  now: Date;
}

/** How a request ended: a 2xx answer is delivered; anything else (another status, no answer) failed. */
export type WebhookResult = { ok: true; status: number } | { ok: false; status: number | null; error: string };

/** Sends webhook requests (swappable in tests). */
export type WebhookSender = (req: WebhookRequest) => Promise<WebhookResult>;

const ERROR_BODY_CHARS = 300;

/**
 * POSTs a signed JSON body with `fetch`. Redirects are not followed (a 3xx is a failure: the subscription
 * names the endpoint, and following would send signed events wherever the answer points). The answer's body
 * is read only to keep the start of an error answer for `last_error`.
 */
export const fetchWebhook: WebhookSender = async (req) => {
  const timestamp = Math.floor(req.now.getTime() / 1000);
  const signal = AbortSignal.any([req.signal, AbortSignal.timeout(req.timeoutMs)]);
  try {
    const res = await fetch(req.url, {
      method: 'POST',
      redirect: 'manual',
      signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'statekeeper-webhooks',
        'webhook-id': req.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(req.secret, req.id, timestamp, req.body),
      },
      body: req.body,
    });
    if (res.status >= 200 && res.status < 300) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: true, status: res.status };
    }
    const text = (await res.text().catch(() => '')).slice(0, ERROR_BODY_CHARS);
    return { ok: false, status: res.status, error: `HTTP ${res.status}${text ? `: ${text}` : ''}` };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError') return { ok: false, status: null, error: `no answer within ${req.timeoutMs} ms` };
    const cause = err.cause?.code ?? err.cause?.message;
    return { ok: false, status: null, error: `${err.message}${cause ? ` (${cause})` : ''}`.slice(0, ERROR_BODY_CHARS) };
  }
};
