import { Migration20261122Initial } from './migration-20261122-initial.ts';
import { Migration20261123ApiKeys } from './migration-20261123-api-keys.ts';
import { Migration20261124EffectInstanceIndex } from './migration-20261124-effect-instance-index.ts';
import { Migration20261201HistoryChain } from './migration-20261201-history-chain.ts';
import { Migration20261201WorkflowDefinitions } from './migration-20261201-workflow-definitions.ts';
import { Migration20261207InstancePaused } from './migration-20261207-instance-paused.ts';
import { Migration20261207InstanceRestartOf } from './migration-20261207-instance-restart-of.ts';
import { Migration20261207Tasks } from './migration-20261207-tasks.ts';
import { Migration20261208InstanceForkOf } from './migration-20261208-instance-fork-of.ts';
import { Migration20261208OutboxDelivery } from './migration-20261208-outbox-delivery.ts';
import { Migration20261208Correlation } from './migration-20261208-correlation.ts';
import { Migration20261208Schedules } from './migration-20261208-schedules.ts';
import { Migration20261208TimerKeyed } from './migration-20261208-timer-keyed.ts';
import { Migration20261208WebhookDeliveries } from './migration-20261208-webhook-deliveries.ts';
import { Migration20261208BulkJobs } from './migration-20261208-bulk-jobs.ts';
import { Migration20261208Retention } from './migration-20261208-retention.ts';
import { Migration20261208ListIndexes } from './migration-20261208-list-indexes.ts';
import { Migration20261209OpenTimerIndex } from './migration-20261209-open-timer-index.ts';
import { Migration20261209StatsCounters } from './migration-20261209-stats-counters.ts';
import { Migration20261209OpenEffectLookups } from './migration-20261209-open-effect-lookups.ts';
import { Migration20261210StatsInStatements } from './migration-20261210-stats-in-statements.ts';
import { Migration20261210HistoryChainInStatements } from './migration-20261210-history-chain-in-statements.ts';

/** Every migration, in order. Add new ones at the end; never edit a released one. */
export const migrationsList = [
  { name: 'Migration20261122Initial', class: Migration20261122Initial },
  { name: 'Migration20261123ApiKeys', class: Migration20261123ApiKeys },
  { name: 'Migration20261124EffectInstanceIndex', class: Migration20261124EffectInstanceIndex },
  { name: 'Migration20261201HistoryChain', class: Migration20261201HistoryChain },
  { name: 'Migration20261201WorkflowDefinitions', class: Migration20261201WorkflowDefinitions },
  { name: 'Migration20261207Tasks', class: Migration20261207Tasks },
  { name: 'Migration20261207InstancePaused', class: Migration20261207InstancePaused },
  { name: 'Migration20261207InstanceRestartOf', class: Migration20261207InstanceRestartOf },
  { name: 'Migration20261208InstanceForkOf', class: Migration20261208InstanceForkOf },
  { name: 'Migration20261208OutboxDelivery', class: Migration20261208OutboxDelivery },
  { name: 'Migration20261208Correlation', class: Migration20261208Correlation },
  { name: 'Migration20261208Schedules', class: Migration20261208Schedules },
  { name: 'Migration20261208TimerKeyed', class: Migration20261208TimerKeyed },
  { name: 'Migration20261208WebhookDeliveries', class: Migration20261208WebhookDeliveries },
  { name: 'Migration20261208BulkJobs', class: Migration20261208BulkJobs },
  { name: 'Migration20261208Retention', class: Migration20261208Retention },
  { name: 'Migration20261208ListIndexes', class: Migration20261208ListIndexes },
  { name: 'Migration20261209OpenTimerIndex', class: Migration20261209OpenTimerIndex },
  { name: 'Migration20261209StatsCounters', class: Migration20261209StatsCounters },
  { name: 'Migration20261209OpenEffectLookups', class: Migration20261209OpenEffectLookups },
  { name: 'Migration20261210StatsInStatements', class: Migration20261210StatsInStatements },
  { name: 'Migration20261210HistoryChainInStatements', class: Migration20261210HistoryChainInStatements },
];
