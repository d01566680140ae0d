/**
 * What the database is busy with, by sampling: every `everyMs` the active sessions of the database in
 * pg_stat_activity (statement start and wait event), tallied under the current label. A poor man's
 * pg_stat_statements (which needs a preloaded library): enough to tell which statement a phase spends its
 * time in.
 */
import pg from 'pg';

export interface ActivitySampler {
  /** Samples from now on are tallied under `label`. */
  label(label: string): void;
  /** The most sampled statements of `label`, as printable lines (share of the samples, wait event). */
  top(label: string, n: number): string[];
  stop(): Promise<void>;
}

export async function sampleActivity(url: string, everyMs = 50): Promise<ActivitySampler> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const tallies = new Map<string, { samples: number; byKey: Map<string, number> }>();
  let current = '';
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await db.query(
        `select left(regexp_replace(query, '\\s+', ' ', 'g'), 60) as q, coalesce(wait_event_type || ':' || wait_event, 'CPU') as w
         from pg_stat_activity where state = 'active' and datname = current_database() and pid <> pg_backend_pid()`,
      );
      const t = tallies.get(current) ?? { samples: 0, byKey: new Map() };
      tallies.set(current, t);
      t.samples++;
      for (const r of rows) {
        const key = `${r.q} [${r.w}]`;
        t.byKey.set(key, (t.byKey.get(key) ?? 0) + 1);
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    label: (l) => {
      current = l;
    },
    top: (l, n) => {
      const t = tallies.get(l);
      if (!t) return [];
      return [...t.byKey]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([k, c]) => `    ${(c / t.samples).toFixed(2).padStart(5)}  ${k}`);
    },
    stop: async () => {
      running = false;
      await loop;
      await db.end();
    },
  };
}
