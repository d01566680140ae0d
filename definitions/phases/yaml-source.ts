/**
 * A YAML document with the position of every node, so a problem found in
 * the parsed value can name its line and column (the `yaml` package keeps
 * source ranges).
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { pointer, type DefinitionIssue, type DefinitionIssueCode } from '../issues.ts';

type Seg = string | number;

/** A parsed YAML text. */
export interface YamlSource {
  readonly value: unknown;
  /** Line and column (1-based) of the node at `path`, or of its nearest existing ancestor; `key` prefers a map key. */
  positionOf(path: readonly Seg[], key?: boolean): { line: number; column: number } | undefined;
  /** An issue at `path` with its position. */
  issue(code: DefinitionIssueCode, path: readonly Seg[], message: string, key?: boolean): DefinitionIssue;
}

/**
 * Parses YAML; syntax errors (and duplicate keys, anchors to nothing, more
 * than one document) come back as `invalid_yaml` issues with their position.
 */
export function parseYaml(text: string): { ok: true; source: YamlSource } | { ok: false; issues: DefinitionIssue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { code: 'invalid_yaml' as const, path: '', message: `not valid YAML: ${e.message.split('\n')[0]}`, line, column: col };
      }),
    };
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  const positionOf = (path: readonly Seg[], key = false) => {
    const offset = offsetOf(doc, path, key);
    if (offset === undefined) return undefined;
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  return {
    ok: true,
    source: {
      value,
      positionOf,
      issue: (code, path, message, key) => ({ code, path: pointer(path), message, ...positionOf(path, key) }),
    },
  };
}

/** Start offset of the node at `path` (or the deepest ancestor that exists). */
function offsetOf(doc: Document, path: readonly Seg[], key: boolean): number | undefined {
  let node: unknown = doc.contents;
  let at = (node as { range?: number[] } | null)?.range?.[0];
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return at;
      const keyStart = (pair.key as { range?: number[] }).range?.[0];
      if (last && key) return keyStart ?? at;
      node = pair.value;
      at = (node as { range?: number[] } | null)?.range?.[0] ?? keyStart ?? at;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return at;
      node = item;
      at = (node as { range?: number[] } | null)?.range?.[0] ?? at;
    } else return at;
  }
  return at;
}
