/**
 * Cases that still diverge, by name, with the divergence. Each runs as
 * `test.fails` (so it is noticed the moment it starts passing) until fixed.
 */
export const PENDING: Readonly<Record<string, string>> = {};
