import type { CallOptions, MessagingClient } from '../actors/clients/index.ts';
import type { CallGate } from './call-gate.ts';
import { LabError } from './errors.ts';
import type { IdSequence } from './ids.ts';
import { LabState, type Table, type Tables } from './lab-state.ts';

/** A message in the outbox. */
export type OutboxMessage =
  | { messageId: string; channel: 'email'; to: string; template: string; data: Record<string, unknown>; sentAt: string }
  | { messageId: string; channel: 'sms'; to: string; text: string; sentAt: string };

const PHONE = /^\+?[0-9]{6,15}$/;

/**
 * Email and SMS outboxes.
 *
 * @remarks Every message sent is kept, oldest first; the call gate
 * deduplicates by idempotency key, so a retried send does not send twice.
 * Messages are never live records: a sent message cannot be undone, so they
 * do not count as orphans.
 */
export class MessagingSystem {
  private readonly outbox: Table<OutboxMessage>;

  constructor(
    private readonly ids: IdSequence,
    private readonly now: () => Date = () => new Date(),
    tables: Tables = new LabState(),
  ) {
    this.outbox = tables.table('messaging.message');
  }

  /** Puts an email in the outbox. */
  sendEmail(req: { to: string; template: string; data?: Record<string, unknown> }): { messageId: string } {
    if (!req.to?.includes('@')) throw LabError.invalid('messaging', 'sendEmail', `"${req.to}" is not an email address`);
    if (!req.template) throw LabError.invalid('messaging', 'sendEmail', 'template must not be empty');
    const message: OutboxMessage = {
      messageId: this.ids.next('msg'),
      channel: 'email',
      to: req.to,
      template: req.template,
      data: structuredClone(req.data ?? {}),
      sentAt: this.now().toISOString(),
    };
    this.outbox.set(message.messageId, message);
    return { messageId: message.messageId };
  }

  /** Puts an SMS in the outbox. */
  sendSms(req: { to: string; text: string }): { messageId: string } {
    if (!PHONE.test(req.to ?? '')) throw LabError.invalid('messaging', 'sendSms', `"${req.to}" is not a phone number`);
    if (!req.text) throw LabError.invalid('messaging', 'sendSms', 'text must not be empty');
    const message: OutboxMessage = {
      messageId: this.ids.next('msg'),
      channel: 'sms',
      to: req.to,
      text: req.text,
      sentAt: this.now().toISOString(),
    };
    this.outbox.set(message.messageId, message);
    return { messageId: message.messageId };
  }

  /** Every message sent, oldest first; optionally only those to one address. */
  records(to?: string): OutboxMessage[] {
    return structuredClone([...this.outbox.values()].filter((m) => to === undefined || m.to === to));
  }

  /** Empties the outbox. */
  reset(): void {
    this.outbox.clear();
  }
}

/** The {@link MessagingClient} of a {@link MessagingSystem}, through the lab's call gate. */
export function createMessagingClient(system: MessagingSystem, gate: CallGate): MessagingClient {
  const run = <T>(operation: keyof MessagingClient, o: CallOptions, apply: () => T) => gate.mutate('messaging', operation, o, apply);
  return {
    sendEmail: (req, o) => run('sendEmail', o, () => system.sendEmail(req)),
    sendSms: (req, o) => run('sendSms', o, () => system.sendSms(req)),
  };
}
