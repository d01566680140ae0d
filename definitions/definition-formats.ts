/**
 * Config export formats of a registered machine: each is one entry of
 * {@link CONFIG_FORMATS}; `GET /v1/machines/{id}/definition?format=` and the
 * CLI's `export` offer every entry.
 */
import type { AnyStateMachine } from 'xstate';
import { exportDefinition } from './export-definition.ts';
import type { MachineDefinition } from './validate-definition.ts';
import { isPlain } from './values.ts';

/** A machine rendered in one format. */
export interface RenderedDefinition {
  readonly contentType: string;
  readonly body: string;
}

/** Renders a machine registered as `version`. */
export type DefinitionFormatter = (machine: AnyStateMachine, version: string) => RenderedDefinition;

/** The machine config as JSON (Stately Studio's import shape). */
export const jsonFormat: DefinitionFormatter = (machine, version) => ({
  contentType: 'application/json; charset=utf-8',
  body: `${JSON.stringify(exportDefinition(machine, version).definition, null, 2)}\n`,
});

/** A TypeScript module: the config as a constant and `createMachine(definition)`, implementations named for `provide`. */
export const tsFormat: DefinitionFormatter = (machine, version) => {
  const { definition } = exportDefinition(machine, version);
  const names = namedImplementations(definition);
  const list = Object.entries(names)
    .filter(([, v]) => v.length)
    .map(([k, v]) => ` *   ${k}: ${v.join(', ')}`)
    .join('\n');
  const body = [
    `/**`,
    ` * ${definition.id}@${version}, exported by Statekeeper. Paste into Stately Studio (Import → code) or bind`,
    ` * the named implementations with \`machine.provide({ guards, actions, actors, delays })\`:`,
    list || ' *   (none)',
    ` */`,
    `import { createMachine } from 'xstate';`,
    ``,
    `export const definition = ${JSON.stringify(definition, null, 2)} as const;`,
    ``,
    `export const machine = createMachine(definition as never);`,
    ``,
  ].join('\n');
  return { contentType: 'text/plain; charset=utf-8', body };
};

/** The config export formats by name (`json`, `ts`); add a format by adding an entry. */
export const CONFIG_FORMATS: Record<string, DefinitionFormatter> = { json: jsonFormat, ts: tsFormat };

/** The names a definition refers to, by kind (sorted, unique). */
export function namedImplementations(definition: MachineDefinition): Record<'guards' | 'actions' | 'actors' | 'delays', string[]> {
  const out = { guards: new Set<string>(), actions: new Set<string>(), actors: new Set<string>(), delays: new Set<string>() };
  const refName = (v: unknown) => (typeof v === 'string' ? v : isPlain(v) && typeof v.type === 'string' ? v.type : undefined);
  const many = (v: unknown) => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
  const transition = (t: unknown) => {
    if (!isPlain(t)) return;
    const g = refName(t.guard);
    if (g) out.guards.add(g);
    for (const a of many(t.actions)) if (refName(a)) out.actions.add(refName(a)!);
  };
  const node = (n: unknown) => {
    if (!isPlain(n)) return;
    for (const k of ['entry', 'exit']) for (const a of many(n[k])) if (refName(a)) out.actions.add(refName(a)!);
    for (const ts of Object.values(isPlain(n.on) ? n.on : {})) many(ts).forEach(transition);
    for (const [d, ts] of Object.entries(isPlain(n.after) ? n.after : {})) {
      if (!/^\d+$/.test(d)) out.delays.add(d);
      many(ts).forEach(transition);
    }
    many(n.always).forEach(transition);
    many(n.onDone).forEach(transition);
    for (const inv of many(n.invoke)) {
      if (!isPlain(inv)) continue;
      if (typeof inv.src === 'string') out.actors.add(inv.src);
      for (const k of ['onDone', 'onError', 'onSnapshot']) many(inv[k]).forEach(transition);
    }
    for (const child of Object.values(isPlain(n.states) ? n.states : {})) node(child);
  };
  node(definition);
  const sorted = (s: Set<string>) => [...s].sort();
  return { guards: sorted(out.guards), actions: sorted(out.actions), actors: sorted(out.actors), delays: sorted(out.delays) };
}
