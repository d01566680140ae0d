/**
 * `npm run chaos [-- --kills 50 --clients 3 --self-check --keep]`: a chaos run
 * against the real server, lab and PostgreSQL (see README, "Chaos run").
 * Prints the figures; exits 1 when any is not 0 (or the self-check misses an anomaly).
 */
import { parseArgs } from 'node:util';
import { check, clean } from './checker.ts';
import { printFigures, printRun, printSelfCheck } from './report.ts';
import { chaosRun } from './run.ts';
import { selfCheck } from './self-check.ts';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '50' },
    clients: { type: 'string', default: '3' },
    'min-up-ms': { type: 'string', default: '2000' },
    'max-up-ms': { type: 'string', default: '7000' },
    'fault-every-ms': { type: 'string', default: '1500' },
    'drain-seconds': { type: 'string', default: '240' },
    'self-check': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

const int = (name: keyof typeof values, min: number): number => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) {
    console.error(`chaos: --${name} must be an integer ≥ ${min}, not "${values[name]}"`);
    process.exit(2);
  }
  return n;
};

if (values['self-check']) {
  const result = selfCheck();
  printSelfCheck(result);
  process.exit(result.clean && result.plants.every((p) => p.seen) ? 0 : 1);
}

const result = await chaosRun({
  kills: int('kills', 0),
  clients: int('clients', 1),
  minUpMs: int('min-up-ms', 0),
  maxUpMs: int('max-up-ms', 0),
  faultEveryMs: int('fault-every-ms', 50),
  drainMs: int('drain-seconds', 1) * 1000,
  keep: values.keep,
  log: (line) => console.log(line),
});
const verdict = check(result.observation);
printRun(result);
printFigures(verdict);
process.exit(clean(verdict.figures) ? 0 : 1);
