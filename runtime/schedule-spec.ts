import { Cron } from 'croner';
import { z } from 'zod';
import { RuntimeError } from './errors.ts';
import { badString, unstorable } from './storable.ts';

/** What a tick does when the instance the previous tick started is still active. */
export type OverlapPolicy = 'skip' | 'allow' | 'cancel-previous';
/** Ticks missed while no process ran: only the latest (`none`) or every one, oldest first, up to a bound (`all`). */
export type CatchUpPolicy = 'none' | 'all';

/** Most missed ticks one schedule starts after a downtime under `catchUp: 'all'` (the latest ones). */
export const MAX_CATCH_UP_TICKS = 100;

/**
 * A schedule as declared in code (`runtime.schedules.define`), in configuration or over the API.
 *
 * @example
 * ```ts
 * await runtime.schedules.define({
 *   id: 'billing-monthly', machine: 'billing-run', cron: '0 2 1 * *', timezone: 'Europe/Berlin',
 *   input: { period: '{{tick.previousMonth}}' },
 * });
 * ```
 */
export interface ScheduleDefinition {
  /** Letters, digits, ".", "_", "~" or "-"; unique per tenant. */
  readonly id: string;
  /** Default `default`. */
  readonly tenant?: string;
  /** `id` (the newest version at each tick) or `id@version`. */
  readonly machine: string;
  /** Start input; strings may hold placeholders (see {@link renderInput}). Default `null`. */
  readonly input?: unknown;
  /** Five-field cron expression (minute hour day-of-month month day-of-week) or a nickname such as `@monthly`. */
  readonly cron: string;
  /** IANA time zone the expression is read in (default `UTC`). */
  readonly timezone?: string;
  /** Default `skip`. */
  readonly overlap?: OverlapPolicy;
  /** Default `none`. */
  readonly catchUp?: CatchUpPolicy;
  /** Created paused (default false). */
  readonly paused?: boolean;
}

/** A definition with its defaults applied and every value checked. */
export type ScheduleSpec = Required<Omit<ScheduleDefinition, 'input'>> & { readonly input: unknown };

const PLACEHOLDERS = ['tick', 'tick.date', 'tick.month', 'tick.previousMonth', 'schedule.id'] as const;
const PLACEHOLDER_RE = /\{\{\s*([A-Za-z.]+)\s*\}\}/g;

const idText = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9._~-]+$/, 'letters, digits, ".", "_", "~" or "-" only');

const definitionSchema = z
  .object({
    id: idText,
    tenant: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9._-]+$/)
      .default('default'),
    machine: z
      .string()
      .min(1)
      .max(210)
      .regex(/^[A-Za-z0-9._-]+(@[A-Za-z0-9._-]+)?$/, 'a machine id, optionally with "@version"'),
    input: z.unknown().optional(),
    cron: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .refine((s) => badString(s) === undefined, 'must not contain NUL characters or lone surrogates'),
    timezone: z.string().min(1).max(100).default('UTC'),
    overlap: z.enum(['skip', 'allow', 'cancel-previous']).default('skip'),
    catchUp: z.enum(['none', 'all']).default('none'),
    paused: z.boolean().default(false),
  })
  .strict();

/**
 * Checks a definition's values, not only its shape: the expression parses and fires at least once, the
 * time zone is one this runtime knows, the input is storable and uses only known placeholders.
 * @throws RuntimeError `invalid_argument`, `cron_invalid` or `timezone_invalid`, changing nothing.
 */
export function checkSchedule(def: ScheduleDefinition): ScheduleSpec {
  const r = definitionSchema.safeParse(def);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.join('.');
    throw RuntimeError.invalidArgument('schedule', `${path ? `${path}: ` : ''}${issue.message}`, {
      issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  const spec: ScheduleSpec = { ...r.data, input: r.data.input ?? null };
  checkTimezone(spec.timezone);
  if (!cronOf(spec).nextRun(new Date())) {
    throw new RuntimeError('cron_invalid', `Cron expression "${spec.cron}" of schedule "${spec.id}" never fires.`, { cron: spec.cron });
  }
  const bad = unstorable(spec.input, 'input');
  if (bad) throw RuntimeError.invalidArgument('schedule', `${bad.path} is not storable: ${bad.reason}`);
  const unknown = placeholdersOf(spec.input).filter((p) => !(PLACEHOLDERS as readonly string[]).includes(p));
  if (unknown.length) {
    throw RuntimeError.invalidArgument(
      'schedule',
      `input uses unknown placeholder {{${unknown[0]}}}; known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`,
    );
  }
  return spec;
}

/** @throws RuntimeError `timezone_invalid` for a name the runtime's time-zone database does not know. */
function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new RuntimeError('timezone_invalid', `Time zone "${timezone}" is not an IANA time zone name (e.g. "Europe/Berlin", "UTC").`, {
      timezone,
    });
  }
}

/**
 * The parsed expression (a paused croner job: it only computes dates, it never runs anything).
 * @throws RuntimeError `cron_invalid` naming the problem.
 */
export function cronOf(spec: Pick<ScheduleSpec, 'cron' | 'timezone'>): Cron {
  try {
    // Five fields: minute precision. Croner reads day-of-month and day-of-week with OR, as Vixie cron does.
    return new Cron(spec.cron, { timezone: spec.timezone, paused: true, mode: '5-part' });
  } catch (e) {
    throw new RuntimeError('cron_invalid', `Cron expression "${spec.cron}" is invalid: ${(e as Error).message}`, { cron: spec.cron });
  }
}

/** The first tick strictly after `after`, or null when the expression fires no more. */
export function nextTick(spec: Pick<ScheduleSpec, 'cron' | 'timezone'>, after: Date): Date | null {
  return cronOf(spec).nextRun(after);
}

/** The next `n` ticks from `from` (included when it is a tick). */
export function upcomingTicks(spec: Pick<ScheduleSpec, 'cron' | 'timezone'>, from: Date, n: number): Date[] {
  return cronOf(spec).nextRuns(n, new Date(from.getTime() - 1));
}

/**
 * The ticks to run now, oldest first, for a schedule whose next tick `due` is at or before `now`:
 * the latest one (`none`), or all since `due`, at most {@link MAX_CATCH_UP_TICKS} (the latest ones) (`all`).
 */
export function dueTicks(spec: Pick<ScheduleSpec, 'cron' | 'timezone' | 'catchUp'>, due: Date, now: Date): Date[] {
  const bound = spec.catchUp === 'all' ? MAX_CATCH_UP_TICKS : 1;
  // Counted back from now, so a long downtime costs `bound` steps of the expression, not one per missed tick.
  const latest = cronOf(spec)
    .previousRuns(bound, new Date(now.getTime() + 1))
    .filter((t) => t.getTime() >= due.getTime() && t.getTime() <= now.getTime());
  const ticks = latest.sort((a, b) => a.getTime() - b.getTime());
  // The stored due tick itself is always a tick (unless the expression changed under it): never lose it.
  return ticks.length ? ticks : [due];
}

/**
 * The start input of a tick: in every string, `{{tick}}` becomes the tick as ISO-8601 UTC, `{{tick.date}}`
 * its date (YYYY-MM-DD), `{{tick.month}}` its month (YYYY-MM), `{{tick.previousMonth}}` the month before,
 * all in the schedule's time zone, and `{{schedule.id}}` the schedule's id.
 */
export function renderInput(template: unknown, tick: Date, spec: Pick<ScheduleSpec, 'id' | 'timezone'>): unknown {
  const { year, month, day } = localDate(tick, spec.timezone);
  const pad = (n: number) => String(n).padStart(2, '0');
  const prev = month === 1 ? { y: year - 1, m: 12 } : { y: year, m: month - 1 };
  const values: Record<string, string> = {
    tick: tick.toISOString(),
    'tick.date': `${year}-${pad(month)}-${pad(day)}`,
    'tick.month': `${year}-${pad(month)}`,
    'tick.previousMonth': `${prev.y}-${pad(prev.m)}`,
    'schedule.id': spec.id,
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(PLACEHOLDER_RE, (m, name: string) => values[name] ?? m);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(template);
}

function placeholdersOf(v: unknown): string[] {
  if (typeof v === 'string') return [...v.matchAll(PLACEHOLDER_RE)].map((m) => m[1]!);
  if (Array.isArray(v)) return v.flatMap(placeholdersOf);
  if (v && typeof v === 'object') return Object.values(v).flatMap(placeholdersOf);
  return [];
}

function localDate(at: Date, timeZone: string): { year: number; month: number; day: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return { year: get('year'), month: get('month'), day: get('day') };
}
