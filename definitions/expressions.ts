/**
 * Expressions written in workflow configuration: CEL (Common Expression
 * Language) through `@marcbachmann/cel-js`, never `eval` or `new Function`.
 *
 * @remarks CEL is not Turing complete: no loops, no recursion, no I/O. Cost is
 * bounded by the parsed tree (limits below, checked when a definition is
 * registered) times the size of the data; the result is checked against a
 * size limit after each evaluation, so an expression cannot blow up a snapshot.
 */
import { Environment } from '@marcbachmann/cel-js';

/** Limits of one expression. */
export const EXPRESSION_LIMITS = {
  /** Characters of source. */
  maxLength: 2_000,
  /** Nodes of the parsed tree (a bound on evaluation steps per element of the data). */
  maxAstNodes: 400,
  maxDepth: 32,
  maxListElements: 200,
  maxMapEntries: 200,
  maxCallArguments: 8,
  /** JSON characters of a result. */
  maxResultChars: 64_000,
} as const;

const env = new Environment({
  unlistedVariablesAreDyn: true,
  homogeneousAggregateLiterals: false,
  limits: {
    maxAstNodes: EXPRESSION_LIMITS.maxAstNodes,
    maxDepth: EXPRESSION_LIMITS.maxDepth,
    maxListElements: EXPRESSION_LIMITS.maxListElements,
    maxMapEntries: EXPRESSION_LIMITS.maxMapEntries,
    maxCallArguments: EXPRESSION_LIMITS.maxCallArguments,
  },
});

/** An expression that failed to parse or to evaluate. */
export class ExpressionError extends Error {
  override name = 'ExpressionError';
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(message);
  }
}

type Compiled = (vars: Record<string, unknown>) => unknown;
const cache = new Map<string, Compiled>();

/**
 * Parses an expression (cached by source). Throws {@link ExpressionError}
 * with the parser's message when it is malformed or exceeds a limit.
 */
export function compileExpression(source: string): Compiled {
  const hit = cache.get(source);
  if (hit) return hit;
  if (typeof source !== 'string' || source.trim() === '')
    throw new ExpressionError(String(source), 'an expression must be a non-empty string');
  if (source.length > EXPRESSION_LIMITS.maxLength)
    throw new ExpressionError(source.slice(0, 40), `an expression is at most ${EXPRESSION_LIMITS.maxLength} characters`);
  let parsed: Compiled;
  try {
    parsed = env.parse(source) as unknown as Compiled;
  } catch (e) {
    throw new ExpressionError(source, firstLine(e));
  }
  const run: Compiled = (vars) => {
    let value: unknown;
    try {
      value = parsed(vars);
    } catch (e) {
      throw new ExpressionError(source, firstLine(e));
    }
    const json = toJson(value);
    if (JSON.stringify(json ?? null).length > EXPRESSION_LIMITS.maxResultChars) {
      throw new ExpressionError(source, `the result is larger than ${EXPRESSION_LIMITS.maxResultChars} JSON characters`);
    }
    return json;
  };
  if (cache.size > 5_000) cache.clear();
  cache.set(source, run);
  return run;
}

/** Evaluates an expression over `vars` (e.g. `{ context, event, input }`), returning plain JSON. */
export function evaluateExpression(source: string, vars: Record<string, unknown>): unknown {
  return compileExpression(source)(vars);
}

/** CEL integers are bigints and maps may be `Map`s: turn them into JSON values. */
function toJson(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(toJson);
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), toJson(x)]));
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v && typeof v === 'object') {
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return (v as { toJSON: () => unknown }).toJSON();
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  }
  return v;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}
