/**
 * Live updates of one instance from `GET /v1/instances/{id}/stream`.
 *
 * @remarks The browser's EventSource cannot send an Authorization header, so
 * the stream is read with fetch and parsed by `eventsource-parser`.
 */
import { createParser } from 'eventsource-parser';

/** What the stream reports. */
export interface LiveHandlers {
  /** `snapshot` (the instance), `change` ({ version, status, state, eventType }) or `end`. */
  onEvent(type: 'snapshot' | 'change' | 'end', data: unknown): void;
  onStatus(status: 'connecting' | 'live' | 'ended' | 'retrying'): void;
}

/**
 * Follows an instance until it ends or `stop()` is called; a dropped
 * connection is reopened after a pause (the server starts each connection
 * with a fresh snapshot, so nothing is missed).
 */
export function followInstance(id: string, key: string, handlers: LiveHandlers): { stop(): void } {
  const abort = new AbortController();
  let ended = false;
  const run = async () => {
    for (let attempt = 0; !abort.signal.aborted && !ended; attempt++) {
      handlers.onStatus(attempt === 0 ? 'connecting' : 'retrying');
      try {
        const res = await fetch(`/v1/instances/${encodeURIComponent(id)}/stream`, {
          headers: { Authorization: `Bearer ${key}`, Accept: 'text/event-stream' },
          signal: abort.signal,
        });
        // A refused stream (bad key, unknown instance) is not retried.
        if (res.status >= 400 && res.status < 500) return handlers.onStatus('ended');
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        const parser = createParser({
          onEvent(message) {
            const type = message.event as 'snapshot' | 'change' | 'end';
            if (type !== 'snapshot' && type !== 'change' && type !== 'end') return;
            if (type === 'snapshot') handlers.onStatus('live');
            if (type === 'end') ended = true;
            handlers.onEvent(type, JSON.parse(message.data));
          },
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
        attempt = 0;
      } catch {
        if (abort.signal.aborted) return;
      }
      if (ended) return handlers.onStatus('ended');
      await new Promise((r) => setTimeout(r, Math.min(5000, 500 * 2 ** Math.min(attempt, 4))));
    }
  };
  void run();
  return { stop: () => abort.abort() };
}
