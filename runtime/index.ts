/** Statekeeper runtime: durable XState instances. */
export { Runtime, createRuntime, DEFAULT_MIN_DELAY_MS } from './runtime.ts';
export { DEFAULT_TRANSITION_RATE_LIMIT } from './transition-budget.ts';
export type { TransitionRateLimit } from './transition-budget.ts';
export type { RuntimeOptions, ListOptions } from './runtime.ts';
export type { WaitUntilOptions } from './queries.ts';
export type { OperationOptions } from './operations.ts';
export type { ForkOptions } from './fork.ts';
export type { BulkJobView, BulkPreview, BulkRequest } from './bulk-jobs.ts';
export type {
  BulkAction,
  BulkFailure,
  BulkFilter,
  BulkJobRecord,
  BulkJobStatus,
  BulkProgress,
  BulkStore,
  WithBulkStore,
} from './bulk-types.ts';
export { BULK_ACTION_NAMES } from './bulk-actions.ts';
export { MemoryBulkStore } from './memory-bulk-store.ts';
export type { AcceptedEvent, InstanceDetails } from './views.ts';
export { decodeCursor } from './views.ts';
export { badString, isStorableDate, unstorable } from './storable.ts';
export { workflowStatus, stepViews, invokedSteps, effectTimes } from './workflow-status.ts';
export type { WorkflowStatus, StepView, StepViewSource, SnapshotLike } from './workflow-status.ts';
export { OPERATOR_EVENTS } from './operator-events.ts';
export type { OperatorEvents } from './operator-events.ts';
export { isStandardSchema } from './standard-schema.ts';
export type { StandardSchemaV1, StandardIssue } from './standard-schema.ts';
export {
  RuntimeError,
  IncompatibleSnapshotError,
  EventNotAllowedError,
  MigrationRefusedError,
  StepTimeoutError,
  StepNotRegisteredError,
} from './errors.ts';
export type { MigrationRefusal, RuntimeErrorCode } from './errors.ts';
export { MigrationRegistry } from './migrations.ts';
export type { MigrationDefinition, MigrationPath, MigrationResult, MigrationSnapshot } from './migrations.ts';
export { MIGRATED_EVENT, migrateSnapshot } from './migration-plan.ts';
export type { EffectSummary, MigratedSnapshot, MigrationReport } from './migration-plan.ts';
export type { MigrateOptions } from './migrate-instance.ts';
export { systemClock, SimulatedClock } from './clock.ts';
export { MemoryStore } from './memory-store.ts';
export { CORRELATE_ALL_MAX } from './correlate.ts';
export type { CorrelateOptions, CorrelateResult, CorrelatedDelivery } from './correlate.ts';
export { CORRELATION_KEY_RE, CORRELATION_VALUE_MAX } from './correlation.ts';
export type { CorrelationSpec, CorrelationSource, CorrelationValues } from './correlation.ts';
export { DEFAULT_POLICY } from './registry.ts';
export type { RegisterOptions, RegisteredMachine } from './registry.ts';
export { ATTR, SPAN } from './telemetry.ts';
export type { Caller, InstanceChange, InstanceView, RemoteChange, SendOptions, SendResult, StartOptions, StartResult } from './types.ts';
export type {
  StoreStats,
  Clock,
  EffectRecord,
  EventRecord,
  InstanceRecord,
  InstanceStore,
  InstanceStatus,
  ListFilter,
  VersionCount,
  CorrelationQuery,
  Wakeup,
  Wakeups,
} from './ports.ts';
export { step, stepOutcomeOf, STEP_OUTCOME_FIELD } from './step.ts';
export type { StepPolicy, StepOutcome, StepOutcomeKind } from './step.ts';
export type { StepContext, StepFn, StepImplementation, StepRegistry, StepRecoveryInput, StepRecoveryOutput } from './step-types.ts';
export { isStepRecoveryInput } from './step-types.ts';
export type { NewTask, TaskChanges, TaskFilter, TaskRecord, TaskSpec, TaskStatus } from './tasks.ts';
export { taskSpecOf, taskProblems } from './tasks.ts';
export type { TaskCaller, TaskListOptions, TaskOptions, TaskView } from './task-operations.ts';
export { TaskOperations } from './task-operations.ts';
export type { AnswerIssue } from './task-forms.ts';
export { DEFAULT_TENANT, publicId as publicInstanceId, storedId as storedInstanceId } from './instance-ids.ts';
export { Schedules } from './schedules.ts';
export type { ScheduleView, TickOutcome } from './schedules.ts';
export { MAX_CATCH_UP_TICKS, checkSchedule, renderInput } from './schedule-spec.ts';
export type { ScheduleDefinition, OverlapPolicy, CatchUpPolicy } from './schedule-spec.ts';
export type { ScheduleRecord, ScheduleStore, ScheduleTickUpdate, PurgeRequest, PurgeCounts } from './ports.ts';
export { Retention, checkRetentionPolicy } from './retention.ts';
export type { RetentionPolicy, RetentionOptions, RetentionReport, RetentionRuleReport } from './retention.ts';
export type { RetentionInfo } from './observer.ts';
export { Outbox } from './outbox/outbox.ts';
export type { OutboxOptions, SubscriptionView, DeliveryView, DeliveryListOptions } from './outbox/outbox.ts';
export type { OutboxHandler, OutboxHandlerContext, OutboxMessage } from './outbox/outbox-dispatcher.ts';
export type {
  AttemptOutcome,
  ClaimedDelivery,
  DeliveryFilter,
  DeliveryRecord,
  DeliveryStatus,
  OutboxBacklog,
  OutboxStore,
  SubscriptionKind,
  SubscriptionRecord,
} from './outbox/outbox-ports.ts';
export { DEFAULT_DELIVERY_POLICY } from './outbox/delivery-policy.ts';
export type { DeliveryPolicy } from './outbox/delivery-policy.ts';
export { signWebhook, verifyWebhook, newWebhookSecret } from './outbox/webhook-signature.ts';
export { MemoryOutboxStore } from './outbox/memory-outbox-store.ts';
export type { DeliveryInfo } from './observer.ts';
