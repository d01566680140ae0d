/**
 * Statecharts drawn by Mermaid (bundled, rendered in the page) from the
 * API's `format=mermaid` export, with the current states highlighted.
 */
import { activeLeafPaths, mermaidStateId } from '../../api/exports/mermaid-ids.ts';

type Mermaid = typeof import('mermaid')['default'];
let loading: Promise<Mermaid> | undefined;
let counter = 0;

/** Mermaid, loaded on first use (it is the largest part of the bundle). */
function loadMermaid(): Promise<Mermaid> {
  loading ??= import('mermaid').then(({ default: mermaid }) => {
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'neutral', flowchart: { htmlLabels: false } });
    return mermaid;
  });
  return loading;
}

/** A diagram rendered into an element; `highlight` marks the states of a state value. */
export interface RenderedDiagram {
  readonly ref: string;
  highlight(value: unknown): string[];
}

/**
 * Renders Mermaid text into `el` (replacing what was there).
 * @remarks Mermaid gives each state's element the id `<svg id>-state-<mermaid id>-<n>`;
 * the mermaid ids are the state paths (`mermaidStateId`), so a state value maps to elements.
 */
export async function renderDiagram(el: HTMLElement, ref: string, text: string): Promise<RenderedDiagram> {
  const mermaid = await loadMermaid();
  const svgId = `statechart-${++counter}`;
  const { svg } = await mermaid.render(svgId, text);
  el.innerHTML = svg; // Mermaid's output, sanitized by it (securityLevel strict).
  el.dataset.ref = ref;
  // Mermaid scales the drawing down to the container; a large workflow stays readable at its natural size, scrolled.
  const drawing = el.querySelector('svg');
  const natural = parseFloat(drawing?.style.maxWidth ?? '');
  if (drawing && natural > 0) drawing.style.width = `${natural}px`;
  const find = (path: readonly string[]) => Array.from(el.querySelectorAll<SVGGElement>(`[id^="${svgId}-state-${mermaidStateId(path)}-"]`));
  return {
    ref,
    highlight(value) {
      for (const old of Array.from(el.querySelectorAll('.sk-current, .sk-active'))) old.classList.remove('sk-current', 'sk-active');
      const current: string[] = [];
      for (const path of activeLeafPaths(value)) {
        for (const node of find(path)) {
          node.classList.add('sk-current');
          node.setAttribute('data-state-path', path.join('.'));
        }
        current.push(path.join('.'));
        // The compound and parallel states around it are active too (drawn as clusters).
        for (let i = 1; i < path.length; i++) for (const cluster of find(path.slice(0, i))) cluster.classList.add('sk-active');
      }
      centre(el, el.querySelector('.sk-current'));
      return current;
    },
  };
}

/** Scrolls the diagram's box (not the page) so that `node` is in view, centred when it was outside. */
function centre(box: HTMLElement, node: Element | null): void {
  if (!node) return;
  const b = box.getBoundingClientRect();
  const n = node.getBoundingClientRect();
  if (n.left < b.left || n.right > b.right) box.scrollLeft += n.left + n.width / 2 - (b.left + b.width / 2);
  if (n.top < b.top || n.bottom > b.bottom) box.scrollTop += n.top + n.height / 2 - (b.top + b.height / 2);
}
