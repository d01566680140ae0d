/** Parameter values as the hand-written statements bind them. */
export const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));
export const ts = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
