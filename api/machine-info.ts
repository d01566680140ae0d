/** What the API shows about registered machines. */
import { z } from '@hono/zod-openapi';
import type { AnyStateMachine } from 'xstate';
import type { RegisteredMachine } from '../runtime/index.ts';
import type { MachineVersionSchema, StateInfoSchema } from './schemas.ts';

/** One registered version as the API shows it. */
export function machineVersionBody(reg: RegisteredMachine): z.infer<typeof MachineVersionSchema> {
  const schema = reg.inputSchema;
  return {
    version: reg.version,
    ref: reg.ref,
    description: reg.description ?? (reg.machine.root.description as string | undefined) ?? null,
    states: statesOf(reg.machine),
    inputSchema: schema ? toJsonSchema(schema) : null,
    definition: jsonSafe(reg.machine.toJSON()),
  };
}

/** Every state node (depth first) with the events it handles, the roles they need and the steps it invokes. */
export function statesOf(machine: AnyStateMachine): z.infer<typeof StateInfoSchema>[] {
  const out: z.infer<typeof StateInfoSchema>[] = [];
  const walk = (node: AnyStateMachine['root']) => {
    const roles = (node.meta as { roles?: Record<string, string[]> } | undefined)?.roles ?? {};
    const events = [...node.ownEvents]
      .filter((t) => !t.startsWith('xstate.') && t !== '*')
      .sort()
      .map((type) => {
        const r = roles[type] ?? roles['*'];
        return r ? { type, roles: [...r] } : { type };
      });
    out.push({
      path: node.path.length ? node.path.join('.') : '(root)',
      type: node.type,
      tags: [...node.tags],
      events,
      steps: node.invoke.map((i) => (typeof i.src === 'string' ? i.src : i.id)),
      ...(node.description ? { description: node.description } : {}),
    });
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root);
  return out;
}

/** Every role named in the `meta.roles` of a machine's states. */
export function declaredRoles(machine: AnyStateMachine): string[] {
  const roles = new Set<string>();
  const walk = (node: AnyStateMachine['root']) => {
    for (const list of Object.values((node.meta as { roles?: Record<string, string[]> } | undefined)?.roles ?? {}))
      for (const r of list) roles.add(r);
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root);
  return [...roles].sort();
}

/** JSON Schema of a zod input schema (what the input must look like), or null for other schemas or no JSON form. */
function toJsonSchema(schema: unknown): unknown {
  if (!(schema instanceof z.ZodType)) return null;
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  } catch {
    return null;
  }
}

/**
 * A JSON-safe copy: functions (inline guards, actions, input mappers) become
 * `"[<action type>]"` or `"[function <name>]"`; cycles and non-JSON values are dropped.
 */
export function jsonSafe(value: unknown): unknown {
  const ancestors = new Set<object>();
  const walk = (v: unknown, depth: number, converted = false): unknown => {
    if (typeof v === 'function') {
      const type = (v as { type?: unknown }).type;
      return typeof type === 'string' ? `[${type}]` : `[function${v.name ? ` ${v.name}` : ''}]`;
    }
    if (typeof v === 'number') return Number.isFinite(v) ? v : null;
    if (typeof v === 'bigint') return v.toString();
    if (v === null || typeof v !== 'object') return typeof v === 'string' || typeof v === 'boolean' ? v : undefined;
    if (v instanceof Date) return v.toISOString();
    if (ancestors.has(v) || depth > 64) return undefined;
    // Transitions and state nodes define toJSON; call it once (what it returns may carry toJSON again).
    if (!converted && typeof (v as { toJSON?: unknown }).toJSON === 'function')
      return walk((v as { toJSON: () => unknown }).toJSON(), depth + 1, true);
    ancestors.add(v);
    try {
      if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1) ?? null);
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === 'toJSON') continue;
        const w = walk(x, depth + 1);
        if (w !== undefined) out[k] = w;
      }
      return out;
    } finally {
      ancestors.delete(v);
    }
  };
  return walk(value, 0) ?? null;
}
