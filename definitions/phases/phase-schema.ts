/**
 * The phase-workflow format, version 1 (`statekeeper: phases/1`): the shape
 * of the YAML document, checked with zod before anything is compiled.
 */
import { z } from 'zod';

/** The format marker a document must carry. */
export const PHASES_FORMAT = 'phases/1';

const id = z.string().regex(/^[a-z][a-z0-9_]{0,49}$/, 'an id is lower-case letters, digits and "_", starting with a letter (at most 50)');
const role = z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, 'a role is letters, digits, ".", "_", ":" or "-" (no spaces)');
const roles = z.array(role).min(1, 'name at least one role');
const text = (max: number) => z.string().min(1).max(max);

/** A phase's service level: its duration, and whether days are business days. */
export const SlaSchema = z
  .object({
    duration: z.number().positive('the duration is more than 0').max(3650),
    unit: z.enum(['minutes', 'hours', 'days']),
    business_days: z.boolean().optional(),
  })
  .strict();

/** A person's activity: a human task (see README "Human tasks"). */
export const TaskActivitySchema = z
  .object({
    title: text(200),
    description: text(2000).optional(),
    roles: roles.optional(),
    assignee: text(200).optional(),
    form: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** One activity of a phase: exactly one of `task`, `step` (a registered step) or `workflow` (a registered machine, as a child instance). */
export const ActivitySchema = z
  .object({
    id,
    name: text(200).optional(),
    task: TaskActivitySchema.optional(),
    step: text(100).optional(),
    workflow: text(100).optional(),
    input: z.unknown().optional(),
  })
  .strict();

/** One phase. */
export const PhaseSchema = z
  .object({
    id,
    name: text(200),
    description: text(2000).optional(),
    roles,
    sla: SlaSchema.optional(),
    depends_on: z.array(id).optional(),
    when: text(2000).optional(),
    activities: z.array(ActivitySchema).min(1, 'a phase has at least one activity'),
  })
  .strict();

/** A phase workflow document. */
export const PhaseWorkflowSchema = z
  .object({
    statekeeper: z.literal(PHASES_FORMAT, {
      error: `the document starts with "statekeeper: ${PHASES_FORMAT}" (the format and its version)`,
    }),
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/i, 'the workflow id is letters, digits, ".", "_" or "-"'),
    version: z
      .union([z.string(), z.number()])
      .transform(String)
      .pipe(z.string().regex(/^[A-Za-z0-9._-]{1,100}$/))
      .optional(),
    description: text(2000).optional(),
    schedule: z
      .object({ at_risk: z.number().gt(0, 'at_risk is a share of the SLA, above 0').lt(1, 'at_risk is a share of the SLA, below 1') })
      .strict()
      .optional(),
    overrides: z.object({ roles }).strict().optional(),
    phases: z.array(PhaseSchema).min(1, 'a workflow has at least one phase'),
  })
  .strict();

/** A parsed phase workflow. */
export type PhaseWorkflow = z.infer<typeof PhaseWorkflowSchema>;
/** A parsed phase. */
export type Phase = z.infer<typeof PhaseSchema>;
/** A parsed activity. */
export type Activity = z.infer<typeof ActivitySchema>;

/** Parameters of a template: what a YAML file leaves open. */
export interface PhaseParameters {
  /** SLA duration per phase id, in the unit the phase's `sla` declares. */
  readonly sla?: Readonly<Record<string, number>>;
  /** The phases that apply (default: all); dependencies on the others pass through to theirs. */
  readonly phases?: readonly string[];
  /** Share of the SLA after which a phase is at risk (default: the document's, else 0.75). */
  readonly atRisk?: number;
  /** Registered under this id / version instead of the document's. */
  readonly id?: string;
  readonly version?: string;
}
