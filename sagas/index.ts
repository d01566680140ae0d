/** Sagas: steps with compensations, as plain XState machines the runtime hosts. */
export { defineSaga } from './saga.ts';
export {
  compensationStates,
  compensationGuards,
  compensationActions,
  rolledBackOutput,
  cancelledOutput,
  toStepError,
} from './compensation.ts';
export type { CompensationContext, CompensationNext, CompensationStatesOptions, OutcomeContext } from './compensation.ts';
export { sagaMetaOf, sagaStepStatuses } from './saga-status.ts';
export { sagaStepView } from './saga-view.ts';
export type { SagaSnapshotLike, SagaStepView } from './saga-status.ts';
export { MachineDefinitionError } from './errors.ts';
export type { MachineDefinitionErrorCode } from './errors.ts';
export { OPERATOR_ROLES, compensationInvokeId } from './saga-types.ts';
export type {
  SagaArgs,
  SagaConfig,
  SagaContext,
  SagaEvent,
  SagaFailure,
  SagaMeta,
  SagaOutput,
  SagaResolution,
  SagaStepConfig,
  SagaStepOf,
  SagaStepStatus,
  StepError,
} from './saga-types.ts';
