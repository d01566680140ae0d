import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { ScheduleDefinition } from '../runtime/index.ts';

/** The bundled billing run's schedule: at 02:00 on the 1st of each month it bills the month before. */
export const BILLING_SCHEDULE_ID = 'billing-run-monthly';

/** What the server reads from its configuration to declare schedules. */
export interface ScheduleConfig {
  /** Cron expression of the bundled monthly billing run, or `off`. */
  readonly STATEKEEPER_BILLING_SCHEDULE: string;
  /** Its IANA time zone. */
  readonly STATEKEEPER_BILLING_TIMEZONE: string;
  /** A JSON or YAML file holding a list of schedule definitions (`runtime.schedules.define` fields). */
  readonly STATEKEEPER_SCHEDULES_FILE?: string;
}

/**
 * The schedules `npm start` declares: the bundled billing run's (unless `off`) and those of the schedules file.
 * Each is checked when it is defined; a bad one stops start-up with its code and message.
 */
export async function configuredSchedules(config: ScheduleConfig): Promise<ScheduleDefinition[]> {
  const out: ScheduleDefinition[] = [];
  if (config.STATEKEEPER_BILLING_SCHEDULE !== 'off') {
    out.push({
      id: BILLING_SCHEDULE_ID,
      machine: 'billing-run',
      cron: config.STATEKEEPER_BILLING_SCHEDULE,
      timezone: config.STATEKEEPER_BILLING_TIMEZONE,
      input: { period: '{{tick.previousMonth}}' },
      // A run still going when the next month starts is left to finish; the month is billed by hand (trigger).
      overlap: 'skip',
      // After a downtime over the 1st, the missed run is made once.
      catchUp: 'none',
    });
  }
  const file = config.STATEKEEPER_SCHEDULES_FILE;
  if (file) {
    const text = await readFile(file, 'utf8');
    const list: unknown = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
    if (!Array.isArray(list)) throw new Error(`STATEKEEPER_SCHEDULES_FILE ${file}: expected a list of schedules`);
    out.push(...(list as ScheduleDefinition[]));
  }
  return out;
}
