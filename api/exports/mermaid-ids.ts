/**
 * Mermaid identifiers of state nodes, shared by the diagram export and the
 * dashboard (which finds the current states on the rendered diagram by them).
 *
 * @remarks Pure and dependency-free on purpose: the dashboard bundles this file.
 */

/**
 * The Mermaid id of the state node at `path` (relative to the machine root):
 * `s_` + the path's segments joined by `__`; a character other than a letter
 * or digit becomes `_<hex code>_`.
 *
 * @remarks Injective: in the output `_` is followed by a hex digit only when it
 * opens an escape and by `_` only as a separator, so two paths never share an
 * id, and ids stay clear of Mermaid keywords (`end`, `note`, `state`, …).
 * @example
 * ```ts
 * mermaidStateId(['compensating', 'ip_allocation']); // 's_compensating__ip_5f_allocation'
 * ```
 */
export function mermaidStateId(path: readonly string[]): string {
  return `s_${path.map((segment) => segment.replace(/[^A-Za-z0-9]/g, (ch) => `_${ch.codePointAt(0)!.toString(16)}_`)).join('__')}`;
}

/**
 * The paths of the leaf states in an XState state value, e.g.
 * `{ welcoming: { email: 'sending', sms: 'done' } }` → `[['welcoming','email','sending'], ['welcoming','sms','done']]`.
 */
export function activeLeafPaths(value: unknown, prefix: readonly string[] = []): string[][] {
  if (typeof value === 'string') return [[...prefix, value]];
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    // A compound or parallel state without an active child is itself the leaf.
    if (entries.length === 0) return prefix.length ? [[...prefix]] : [];
    return entries.flatMap(([key, child]) => activeLeafPaths(child, [...prefix, key]));
  }
  return [];
}
