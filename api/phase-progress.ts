/**
 * Progress of a phase workflow (compiled from `statekeeper: phases/1`) in one
 * read: each phase's status, schedule status, due times from its schedule
 * timers, and who can act now (its open tasks, the override roles).
 */
import { z } from '@hono/zod-openapi';
import type { AnyStateMachine } from 'xstate';
import type { InstanceDetails, TaskRecord } from '../runtime/index.ts';

/** One phase's progress. */
export const PhaseProgressSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(['not_started', 'in_progress', 'completed', 'skipped']),
    schedule: z
      .enum(['on_schedule', 'at_risk', 'behind_schedule'])
      .nullable()
      .openapi({ description: 'null before the phase starts or without an SLA' }),
    roles: z.array(z.string()).openapi({ description: 'Roles that work in this phase' }),
    dependsOn: z.array(z.string()),
    slaMs: z.number().nullable(),
    atRiskAt: z.string().nullable().openapi({ description: 'When an on-schedule phase becomes at risk' }),
    dueAt: z.string().nullable().openapi({ description: 'When a running phase falls behind schedule' }),
    tasks: z
      .array(
        z.object({
          id: z.string(),
          title: z.string(),
          roles: z.array(z.string()),
          assignee: z.string().nullable(),
          claimedBy: z.string().nullable(),
        }),
      )
      .openapi({ description: 'Open tasks: who can act now' }),
  })
  .openapi('PhaseProgress');

/** Progress of every phase and who may override; `undefined` for machines that are not phase workflows. */
export const ProgressSchema = z
  .object({ phases: z.array(PhaseProgressSchema), overrideRoles: z.array(z.string()) })
  .openapi('Progress', { description: 'Phase workflows only: each phase with its schedule and who can act' });

type PhaseMeta = { id: string; name: string; roles: string[]; dependsOn: string[] };
type PhaseContext = { status?: string; schedule?: string | null; slaMs?: number | null; atRiskMs?: number | null };

/** The progress view of an instance of a phase workflow. */
export function phaseProgress(d: InstanceDetails, machine: AnyStateMachine | undefined): z.infer<typeof ProgressSchema> | undefined {
  const meta = machine?.config.meta as { format?: string; phases?: PhaseMeta[]; overrideRoles?: string[] } | undefined;
  if (meta?.format !== 'phases/1' || !Array.isArray(meta.phases)) return undefined;
  const context = (d.context as { phases?: Record<string, PhaseContext> } | null)?.phases ?? {};
  const timers = d.effects.filter((e) => e.kind === 'timer' && e.status === 'pending');
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    overrideRoles: meta.overrideRoles ?? [],
    phases: meta.phases.map((p) => {
      const c = context[p.id] ?? {};
      const timer = (state: string) => timers.find((t) => t.name.endsWith(`.running.${p.id}.active.schedule.${state}`))?.dueAt?.getTime();
      const atRisk = timer('on_schedule');
      const behind = timer('at_risk') ?? (atRisk !== undefined ? atRisk + (c.slaMs ?? 0) - (c.atRiskMs ?? 0) : undefined);
      const tasks = d.tasks.filter((t: TaskRecord) => t.state.includes(`.running.${p.id}.`));
      return {
        id: p.id,
        name: p.name,
        status: (c.status ?? 'not_started') as z.infer<typeof PhaseProgressSchema>['status'],
        schedule: (c.schedule ?? null) as z.infer<typeof PhaseProgressSchema>['schedule'],
        roles: p.roles,
        dependsOn: p.dependsOn,
        slaMs: c.slaMs ?? null,
        atRiskAt: iso(atRisk),
        dueAt: c.status === 'in_progress' ? iso(behind) : null,
        tasks: tasks.map((t) => ({ id: t.id, title: t.title, roles: [...t.roles], assignee: t.assignee, claimedBy: t.claimedBy })),
      };
    }),
  };
}
