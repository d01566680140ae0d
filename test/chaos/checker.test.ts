import { describe, expect, it } from 'vitest';
import { check, clean } from './checker.ts';
import { cleanObservation, PLANTS, selfCheck } from './self-check.ts';

describe('chaos checker', () => {
  it('a run where nothing went wrong gives all zeros (a 5xx inside a down window is excused)', () => {
    expect(clean(check(cleanObservation()).figures)).toBe(true);
  });

  it.each(PLANTS)('sees $what: $figure is 1, every other figure 0', ({ figure, plant }) => {
    const o = cleanObservation();
    plant(o);
    const { figures, details } = check(o);
    expect(figures[figure]).toBe(1);
    expect(Object.entries(figures).filter(([k, n]) => k !== figure && n !== 0)).toEqual([]);
    expect(details[figure]).toHaveLength(1);
  });

  it('plants cover every figure, and the self-check agrees', () => {
    expect(new Set(PLANTS.map((p) => p.figure))).toEqual(new Set(Object.keys(check(cleanObservation()).figures)));
    const result = selfCheck();
    expect(result.clean).toBe(true);
    expect(result.plants.every((p) => p.seen)).toBe(true);
  });

  it('a record pointed at only by a rolled-back instance is an orphan', () => {
    const o = cleanObservation();
    o.instances[0]!.workflowStatus = 'rolled_back';
    expect(check(o).figures.labOrphans).toBe(2);
  });
});
