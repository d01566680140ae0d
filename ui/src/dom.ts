/** A few lines of DOM building, so views read as the markup they make (text is always set as text, never parsed). */

/** What a child of {@link h} may be. */
export type Child = Node | string | number | null | undefined | false | Child[];

/** Attributes (strings, booleans) and event handlers (`on…` functions) of {@link h}. */
export type Props = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/**
 * Creates an element: `h('button', { class: 'x', onclick: fn }, 'Send')`.
 * @remarks Strings become text nodes, so API data can never inject markup.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else if (c !== null && c !== undefined && c !== false) el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A state value as one line: `running.onuActivation`, parallel regions joined by ` | `. */
export function stateText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) => {
      const inner = stateText(v);
      return inner ? `${k}.${inner}` : k;
    });
    return parts.length > 1 ? `(${parts.join(' | ')})` : (parts[0] ?? '');
  }
  return '';
}

/** A timestamp in the reader's local time, to the second. */
export function timeText(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

/** An error or result value as short text. */
export function valueText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  const message = (value as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  return JSON.stringify(value);
}
