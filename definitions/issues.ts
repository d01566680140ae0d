/** Problems found in a definition, each with where it is. */

/** Stable codes of definition problems. */
export type DefinitionIssueCode =
  | 'invalid_json'
  | 'invalid_yaml'
  | 'invalid_value'
  | 'unknown_key'
  | 'missing_id'
  | 'missing_initial'
  | 'initial_not_found'
  | 'target_not_found'
  | 'duplicate_id'
  | 'unknown_guard'
  | 'unknown_action'
  | 'unknown_actor'
  | 'unknown_delay'
  | 'unknown_mapper'
  | 'invalid_params'
  | 'invalid_expression'
  | 'unknown_phase'
  | 'dependency_cycle'
  | 'too_deep';

/**
 * One problem: `path` is a JSON Pointer (RFC 6901) into the definition
 * (`/states/review/on/approve/0/target`); YAML definitions also carry the
 * 1-based `line` and `column` of the offending node.
 */
export interface DefinitionIssue {
  readonly code: DefinitionIssueCode;
  readonly path: string;
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

/** A JSON Pointer from path segments. */
export function pointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** Collects issues while walking a definition. */
export class IssueList {
  readonly items: DefinitionIssue[] = [];
  add(code: DefinitionIssueCode, at: readonly (string | number)[], message: string): void {
    this.items.push({ code, path: pointer(at), message });
  }
  get empty(): boolean {
    return this.items.length === 0;
  }
}

/** Line and column (1-based) of a character offset in a text. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
