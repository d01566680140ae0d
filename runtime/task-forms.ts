/**
 * Answer forms of human tasks: the JSON Schema a state's `meta.task.form`
 * declares, compiled once with Ajv and checked before a completion is sent.
 */
import { Ajv, type ValidateFunction } from 'ajv';

// allErrors: a person filling a form wants every problem at once. strict: unknown keywords are refused at registration.
const ajv = new Ajv({ allErrors: true, strict: true });
const compiled = new Map<string, ValidateFunction>();

/** One problem of an answer: JSON Pointer into the answer and the message. */
export interface AnswerIssue {
  readonly path: string;
  readonly message: string;
}

/** Compiles a form schema (cached); throws with Ajv's message when it is not a valid schema. */
export function compileForm(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let fn = compiled.get(key);
  if (!fn) {
    fn = ajv.compile(schema);
    if (compiled.size > 1_000) compiled.clear();
    compiled.set(key, fn);
  }
  return fn;
}

/** A problem with a form schema, or undefined when it compiles. */
export function formProblem(schema: Record<string, unknown>): string | undefined {
  try {
    compileForm(schema);
    return undefined;
  } catch (e) {
    return `meta.task.form is not a valid JSON Schema: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** Every problem of an answer against a form (empty when it passes). */
export function checkAnswer(form: Record<string, unknown> | null, answer: unknown): AnswerIssue[] {
  if (!form) return [];
  const validate = compileForm(form);
  if (validate(answer)) return [];
  return (validate.errors ?? []).map((e) => ({
    path: e.keyword === 'required' ? `${e.instancePath}/${String(e.params.missingProperty)}` : e.instancePath,
    message: e.message ?? 'is invalid',
  }));
}
