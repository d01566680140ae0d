import type { MikroORM } from '@mikro-orm/postgresql';
import { PgHistoryChain, parseCheckpointKeys, type HistoryVerification } from '../adapters/postgres/history-chain.ts';

/** Options of {@link verifyCommand}. */
export interface VerifyCommandOptions {
  /** One instance, or every instance when omitted. */
  instanceId?: string;
  json: boolean;
  /** `STATEKEEPER_HISTORY_KEYS`: the keys checkpoints are verified with. */
  keys?: string;
  out?: (line: string) => void;
}

/**
 * `statekeeper verify [instance|--all]`: checks history hash chains and signed
 * checkpoints and prints the first broken link of each broken instance.
 * Exit code 0 when all verify, 1 when one does not (or is unknown).
 */
export async function verifyCommand(orm: MikroORM, o: VerifyCommandOptions): Promise<number> {
  const out = o.out ?? ((line: string) => console.log(line));
  const chain = new PgHistoryChain(orm, parseCheckpointKeys(o.keys));
  const print = (v: HistoryVerification) => out(o.json ? JSON.stringify(v) : describe(v));
  if (o.instanceId !== undefined) {
    const v = await chain.verify(o.instanceId);
    if (!v) {
      out(o.json ? JSON.stringify({ instanceId: o.instanceId, error: 'instance_not_found' }) : `${o.instanceId}\tno such instance`);
      return 1;
    }
    print(v);
    return v.ok ? 0 : 1;
  }
  // With --all only broken instances are listed, then a summary.
  const { instances, broken } = await chain.verifyAll((v) => (!v.ok || o.json) && print(v));
  if (!o.json) out(`${instances} instances verified, ${broken} broken`);
  return broken === 0 ? 0 : 1;
}

function describe(v: HistoryVerification): string {
  const extra = [
    v.unchainedPrefix && `${v.unchainedPrefix} rows from before the chain`,
    v.checkpoints && `${v.checkpoints} checkpoints`,
  ].filter(Boolean);
  const tail = extra.length ? ` (${extra.join(', ')})` : '';
  if (v.ok) return `${v.instanceId}\tok: ${v.events} rows${tail}`;
  const b = v.firstBreak!;
  return `${v.instanceId}\tBROKEN at row ${b.seq} (${b.reason}): ${b.message}${tail}`;
}
