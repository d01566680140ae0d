import { Migration } from '@mikro-orm/migrations';

/**
 * Indexes for the filtered instance list (`GET /v1/instances?status=` and `?machine=`), newest first. Without them a
 * status filter or a machine filter without a status read the whole table and sorted it. Only columns that change at
 * start and finish (status) or never (tenant, machine_id, created_at, id) are indexed, so an ordinary transition, which
 * rewrites state_value, snapshot, version and updated_at, stays a HOT update and writes no entry in these indexes.
 */
export class Migration20261208ListIndexes extends Migration {
  override up(): void {
    this.addSql(
      `create index if not exists "sk_instance_tenant_status_created_index" on "sk_instance" ("tenant", "status", "created_at", "id");`,
    );
    this.addSql(
      `create index if not exists "sk_instance_tenant_machine_created_index" on "sk_instance" ("tenant", "machine_id", "created_at",
          "id");`,
    );
  }

  override down(): void {
    this.addSql(`drop index if exists "sk_instance_tenant_status_created_index";`);
    this.addSql(`drop index if exists "sk_instance_tenant_machine_created_index";`);
  }
}
