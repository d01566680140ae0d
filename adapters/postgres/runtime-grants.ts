/**
 * The least privileges the runtime and the API need at run time, as SQL.
 *
 * @remarks Migrations run as the owner of the tables (`openDatabase` with
 * the owner's URL, or `migrate: false` for the runtime role). The runtime
 * role is no superuser and owns nothing: it reads and writes instances,
 * effects, outbox, API keys and checkpoints, but may only *append* history
 * (`select, insert` on `sk_event`: no update, no delete), and it cannot
 * alter tables or disable the hash-chain trigger, which only the owner can.
 *
 * @example
 * ```ts
 * for (const sql of runtimeRoleGrants('statekeeper_runtime')) await owner.query(sql);
 * ```
 */
export function runtimeRoleGrants(role: string): string[] {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error(`role name "${role}": use lower-case letters, digits and _`);
  return [
    `grant usage on schema public to ${role}`,
    `grant select, insert, update on sk_instance, sk_effect, sk_outbox, sk_api_key, sk_task, sk_subscription, sk_delivery to ${role}`,
    `grant select, insert, update on sk_bulk_job to ${role}`,
    `grant select, insert on sk_definition to ${role}`,
    // Index rows come and go with the values they index (correlation.ts).
    `grant select, insert, update, delete on sk_correlation to ${role}`,
    `grant select, insert, update, delete on sk_schedule to ${role}`,
    // Delivery ids of inbound webhooks are claimed, released after a failed delivery and swept when expired.
    `grant select, insert, update, delete on sk_webhook_delivery to ${role}`,
    // Retention deletes whole finished instances only through this function, which runs with the owner's rights.
    `grant execute on function sk_retention_purge(text, text[], text[], timestamptz, boolean, int, boolean, timestamptz) to ${role}`,
    `grant select, insert on sk_event, sk_history_checkpoint to ${role}`,
    // Stats deltas are appended by its create and commit statements and by the triggers of its other writes; folding them into
    // the counters runs with the owner's rights.
    `grant select, insert on sk_stats_delta to ${role}`,
    `grant select on sk_stats_counter to ${role}`,
    `grant execute on function sk_stats_fold() to ${role}`,
    `grant usage on all sequences in schema public to ${role}`,
  ];
}
