import type { Clients } from '../actors/clients/index.ts';

/** Name of a system in the lab; the same as its key in {@link Clients}. */
export type SystemName = keyof Clients;

/** Name of an operation of a system: a method of its client interface. */
export type OperationName<S extends SystemName = SystemName> = S extends SystemName ? Extract<keyof Clients[S], string> : never;

/**
 * Every operation of every system, as data.
 *
 * @remarks Faults are validated against this table so that a misspelt
 * operation fails at injection instead of silently never firing. The type
 * check below keeps it complete when a client interface grows.
 */
export const LAB_OPERATIONS = {
  customers: ['createCustomer', 'deleteCustomer', 'createSubscriber', 'deleteSubscriber', 'setSubscriberStatus'],
  radius: ['createAccount', 'deleteAccount', 'setSuspended'],
  ipam: ['allocateAddress', 'releaseAddress'],
  onu: ['activate', 'deactivate'],
  cpe: ['configure', 'reset'],
  billing: [
    'createAccount',
    'closeAccount',
    'addService',
    'removeService',
    'setServiceStatus',
    'listBillableAccounts',
    'rateUsage',
    'createInvoice',
    'voidInvoice',
    'markInvoicePaid',
  ],
  payments: ['createCustomer', 'deleteCustomer', 'charge', 'refund'],
  messaging: ['sendEmail', 'sendSms'],
  tenants: [
    'createTenant',
    'deleteTenant',
    'createSchema',
    'dropSchema',
    'createAdminUser',
    'deleteUser',
    'createIngress',
    'deleteIngress',
    'installDefaultPlans',
    'removePlans',
    'enableNotifications',
    'disableNotifications',
    'setTenantStatus',
  ],
} as const satisfies { [S in SystemName]: readonly OperationName<S>[] };

// Fails to compile when an operation of a client interface is missing above.
type Unlisted = { [S in SystemName]: Exclude<OperationName<S>, (typeof LAB_OPERATIONS)[S][number]> }[SystemName];
const complete: [Unlisted] extends [never] ? true : Unlisted = true;
void complete;

/** Whether `system` names a lab system. */
export function isSystemName(system: string): system is SystemName {
  return Object.hasOwn(LAB_OPERATIONS, system);
}

/** Whether `operation` is an operation of `system`. */
export function isOperationOf<S extends SystemName>(system: S, operation: string): operation is OperationName<S> {
  return (LAB_OPERATIONS[system] as readonly string[]).includes(operation);
}
