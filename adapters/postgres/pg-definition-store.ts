import type { MikroORM } from '@mikro-orm/postgresql';
import type { DefinitionStore, MachineDefinition, StoredDefinition } from '../../definitions/index.ts';

/** Workflow definitions registered at run time, in `sk_definition`. */
export class PgDefinitionStore implements DefinitionStore {
  constructor(private readonly orm: MikroORM) {}

  async insert(r: StoredDefinition): Promise<boolean> {
    const rows = (await this.orm.em.getConnection().execute(
      `insert into sk_definition (machine_id, version, definition, created_by, created_at)
         values (?, ?, ?::jsonb, ?, ?) on conflict do nothing returning machine_id`,
      [r.machineId, r.version, JSON.stringify(r.definition), r.createdBy, r.createdAt],
      'all',
    )) as unknown[];
    return rows.length === 1;
  }

  async list(): Promise<StoredDefinition[]> {
    const rows = (await this.orm.em
      .getConnection()
      .execute(
        `select machine_id, version, definition, created_by, created_at from sk_definition order by created_at, machine_id, version`,
        [],
        'all',
      )) as {
      machine_id: string;
      version: string;
      definition: MachineDefinition;
      created_by: string | null;
      created_at: Date;
    }[];
    return rows.map((r) => ({
      machineId: r.machine_id,
      version: r.version,
      definition: r.definition,
      createdBy: r.created_by,
      createdAt: new Date(r.created_at),
    }));
  }
}
