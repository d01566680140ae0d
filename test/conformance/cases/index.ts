import type { IdenticalCase } from '../case-types.ts';
import { actionCases } from './actions.ts';
import { actorCases } from './actors.ts';
import { dataCases } from './data.ts';
import { guardCases } from './guards.ts';
import { stateCases } from './states.ts';
import { timingCases } from './timing.ts';

/** Every machine that must run in the runtime exactly as in `createActor`. */
export const identicalCases: IdenticalCase[] = [...actionCases, ...actorCases, ...stateCases, ...timingCases, ...guardCases, ...dataCases];
