/**
 * The Standard Schema interface (https://standardschema.dev, v1), the one
 * contract zod, valibot, arktype and others implement: the runtime validates a
 * start input with any of them without depending on one. The spec asks
 * consumers to copy these types rather than import a package; only the parts
 * the runtime reads are kept.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** A successful validation (`value`) or its issues. */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: readonly StandardIssue[] };

/** One problem with the value, at a path of keys. */
export interface StandardIssue {
  readonly message: string;
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
}

/** True for any object that implements the interface (checked at registration). */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const std = (value as { '~standard'?: { version?: unknown; validate?: unknown } } | null)?.['~standard'];
  return typeof std === 'object' && std !== null && std.version === 1 && typeof std.validate === 'function';
}

/** Issues as `{ path: 'a.b.0', message }`, the shape of the runtime's `input_invalid` details. */
export function issueList(issues: readonly StandardIssue[]): { path: string; message: string }[] {
  return issues.map((i) => ({
    path: (i.path ?? []).map((p) => String(typeof p === 'object' && p !== null ? p.key : p)).join('.'),
    message: i.message,
  }));
}
