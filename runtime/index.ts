/** Statekeeper runtime: durable XState instances. */
export { Runtime, createRuntime } from './runtime.ts';
export type { RuntimeOptions, ListOptions } from './runtime.ts';
export type { AcceptedEvent, InstanceDetails } from './views.ts';
export { workflowStatus, stepViews } from './workflow-status.ts';
export type { WorkflowStatus, StepView } from './workflow-status.ts';
export { RuntimeError, IncompatibleSnapshotError, EventNotAllowedError } from './errors.ts';
export type { RuntimeErrorCode } from './errors.ts';
export { systemClock, SimulatedClock } from './clock.ts';
export { MemoryStore } from './memory-store.ts';
export { DEFAULT_POLICY } from './registry.ts';
export type { RegisterOptions, RegisteredMachine } from './registry.ts';
export { StepTimeoutError } from './step-runner.ts';
export { ATTR, SPAN } from './telemetry.ts';
export type { Caller, InstanceChange, InstanceView, SendOptions, SendResult, StartOptions, StartResult } from './types.ts';
export type { StoreStats, Clock, EffectRecord, EventRecord, InstanceRecord, InstanceStore, InstanceStatus, ListFilter } from './ports.ts';
export { step } from './step.ts';
export type { StepPolicy } from './step.ts';
export type { StepContext, StepFn, StepImplementation, StepRegistry } from './step-types.ts';
