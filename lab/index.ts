/**
 * The lab: in-process stand-ins for the external systems the bundled
 * workflows call, with fault injection and an inventory of what they hold.
 */
export { createLab } from './lab.ts';
export type { Lab, LabOptions, LabSystems } from './lab.ts';
export { LabError, errorDetail } from './errors.ts';
export type { LabErrorCode } from './errors.ts';
export { FaultInjector } from './faults.ts';
export type { Fault, FaultFilter, FaultMode, FaultSpec } from './faults.ts';
export { CallCounter } from './call-counter.ts';
export { IdempotencyLedger } from './idempotency-ledger.ts';
export { LAB_OPERATIONS, isOperationOf, isSystemName } from './operations.ts';
export type { OperationName, SystemName } from './operations.ts';
export { countBySystem, orphansAmong } from './records.ts';
export type { LabRecords } from './records.ts';
export { matchesRef } from './live-record.ts';
export type { LiveRecord, LiveRecordRef } from './live-record.ts';
export { CustomerSystem } from './customer-system.ts';
export type { CustomerRecords } from './customer-system.ts';
export { RadiusSystem, RATE_LIMIT_ATTRIBUTE, accountRows } from './radius-system.ts';
export { MemoryRadiusStore } from './radius-store.ts';
export type { RadiusRow, RadiusStore, RadiusTables } from './radius-store.ts';
export { PgRadiusStore } from './pg-radius-store.ts';
export { LAB_SCHEMA, ensureLabSchema } from './pg-schema.ts';
export { PgLabStore } from './pg-lab-store.ts';
export { LabState, Table } from './lab-state.ts';
export type { Tables } from './lab-state.ts';
export { MemoryLabStore } from './lab-store.ts';
export type { LabStore, LedgerRow, RecordWrite, StoredRecord } from './lab-store.ts';
export { IpamSystem, DEFAULT_PREFIXES } from './ipam-system.ts';
export type { IpAddress, IpamPrefix } from './ipam-system.ts';
export { OnuSystem } from './onu-system.ts';
export type { OnuActivation } from './onu-system.ts';
export { CpeSystem } from './cpe-system.ts';
export type { CpeConfig, CpeTask, ParameterValue } from './cpe-system.ts';
export { BillingSystem, DEFAULT_PLAN_PRICES } from './billing-system.ts';
export type { BillingAccount, BillingOptions, BillingRecords, BillingService, Invoice } from './billing-system.ts';
export { PaymentsSystem } from './payments-system.ts';
export type { Charge, PaymentCustomer, PaymentRecords } from './payments-system.ts';
export { MessagingSystem } from './messaging-system.ts';
export type { OutboxMessage } from './messaging-system.ts';
export { TenantInfraSystem, DEFAULT_TENANT_PLANS } from './tenant-infra-system.ts';
export type {
  NotificationChannel,
  TenantIngress,
  TenantInfraRecords,
  TenantPlan,
  TenantRecord,
  TenantSchema,
  TenantStatus,
  TenantUser,
} from './tenant-infra-system.ts';
export { createLabApp } from './http/lab-app.ts';
export type { LabErrorBody } from './http/lab-app.ts';
export { IDEMPOTENCY_HEADER } from './http/route-kit.ts';
export type { LabEnv } from './http/route-kit.ts';
export { createHttpClients } from './http/http-clients.ts';
export { LabHttpTransport } from './http/http-transport.ts';
export type { HttpClientsOptions, LabRequest } from './http/http-transport.ts';
export { createHttpLabControl } from './http/http-lab-control.ts';
export type { HttpLabControl, LabRecordsReport } from './http/http-lab-control.ts';
export { startLabServer } from './http/lab-server.ts';
export type { LabServer } from './http/lab-server.ts';
