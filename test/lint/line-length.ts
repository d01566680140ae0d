/**
 * Line-length check: no line of a source file may exceed 140 characters (the
 * limit the formatter wraps code at; strings, SQL and comments it cannot wrap).
 *
 * Lists every offender as `path:line (length)` and exits 1 when there is one.
 * With `--report` it lists them and exits 0 (used until the one formatting
 * pass over the codebase, see `.ci/run`).
 *
 * Files: those git tracks or would track (`.gitignore` respected), with a
 * source extension; Markdown and lock files are prose and generated data.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MAX = 140;
const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs|json|css|html|sql|sh|ya?ml)$/;
const SKIP = /(^|\/)package-lock\.json$/;

const report = process.argv.includes('--report');
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { encoding: 'utf8' })
  .split('\0')
  .filter((f) => (SOURCE.test(f) || f === '.ci/run') && !SKIP.test(f));

const offenders: string[] = [];
for (const file of files) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue; // deleted in the work tree but still in the index
  }
  // Length in characters as an editor counts them (code points), not UTF-16 units.
  text.split('\n').forEach((line, i) => {
    const length = [...line.replace(/\r$/, '')].length;
    if (length > MAX) offenders.push(`${file}:${i + 1} (${length})`);
  });
}

for (const o of offenders) console.log(o);
const summary = `${offenders.length} line(s) over ${MAX} characters in ${new Set(offenders.map((o) => o.split(':')[0])).size} file(s)`;
console.log(offenders.length ? summary : `no line over ${MAX} characters in ${files.length} files`);
if (offenders.length && !report) process.exit(1);
