import { Migration } from '@mikro-orm/migrations';

/**
 * Makes history tamper-evident: every `sk_event` row stores the hash of the
 * row before it (`prev_hash`) and `hash = SHA-256(prev_hash ‖ content)`, so
 * editing, deleting or inserting a row breaks the chain from there on.
 * Signed checkpoints (`sk_history_checkpoint`) pin a chain head with a key the
 * database does not hold, so rewriting the whole chain is caught too.
 *
 * @remarks A `before insert` trigger computes the hash inside the committing
 * transaction, whichever statement writes the row (the set-based commit, the
 * create, a stop), so no write path can forget it. Content is the row's
 * columns as one jsonb array in Postgres's canonical text form; the time is
 * in microseconds since the epoch, independent of the session's time zone.
 * `sk_event_digest` is the one definition the trigger and the verifier share.
 * Rows written before this migration have no hash and are reported as such.
 */
export class Migration20261201HistoryChain extends Migration {
  override up(): void {
    this.addSql(`alter table "sk_event" add column "prev_hash" bytea null, add column "hash" bytea null;`);
    this.addSql(`create or replace function sk_event_digest(
        prev bytea, instance_id text, seq int, type text, payload jsonb, source text, actor text, state_value jsonb,
        handled boolean, idempotency_key text, created_at timestamptz) returns bytea
      language sql immutable parallel safe as $$
        select sha256(coalesce(prev, '\\x'::bytea) || convert_to(jsonb_build_array(instance_id, seq, type, payload, source, actor,
          state_value, handled, idempotency_key, (extract(epoch from created_at) * 1000000)::bigint)::text, 'UTF8'))
      $$;`);
    this.addSql(`create or replace function sk_event_chain() returns trigger language plpgsql as $$
      begin
        select e.hash into new.prev_hash from sk_event e where e.instance_id = new.instance_id and e.seq = new.seq - 1;
        new.hash := sk_event_digest(new.prev_hash, new.instance_id, new.seq, new.type, new.payload, new.source, new.actor,
          new.state_value, new.handled, new.idempotency_key, new.created_at);
        return new;
      end $$;`);
    this.addSql(`create trigger "sk_event_chain" before insert on "sk_event" for each row execute function sk_event_chain();`);
    this.addSql(`create table "sk_history_checkpoint" (
      "instance_id" text not null, "seq" int not null, "hash" bytea not null, "key_id" text not null, "signature" bytea not null,
      "created_at" timestamptz not null, primary key ("instance_id", "seq"));`);
  }

  override down(): void {
    this.addSql('drop table if exists "sk_history_checkpoint";');
    this.addSql('drop trigger if exists "sk_event_chain" on "sk_event";');
    this.addSql('drop function if exists sk_event_chain();');
    this.addSql('drop function if exists sk_event_digest(bytea, text, int, text, jsonb, text, text, jsonb, boolean, text, timestamptz);');
    this.addSql('alter table "sk_event" drop column if exists "hash", drop column if exists "prev_hash";');
  }
}
