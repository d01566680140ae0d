import { assign, setup } from 'xstate';
import { z } from 'zod';
import type {
  CreatePaymentCustomerInput,
  CreateUserAccountInput,
  PaymentCustomerRef,
  SentMessage,
  UserAccountRef,
  VerificationEmailInput,
  WelcomeEmailInput,
  WelcomeSmsInput,
} from '../actors/signup-steps.ts';
import type { UndoResult } from '../actors/subscriber-steps.ts';
import { cancelledOutput, compensationActions, compensationGuards, compensationStates, rolledBackOutput } from '../sagas/compensation.ts';
import { failureOf, recoveredResult, recoveryGuards, recoveryStates } from '../sagas/recovery.ts';
import { OPERATOR_ROLES, type SagaFailure, type SagaOutput, type SagaResolution } from '../sagas/saga-types.ts';
import { step } from '../runtime/step.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Input of `sign-up`. */
export const SignUpInputSchema = z.object({
  email: z.email(),
  name: z.string().min(1),
  /** E.164; without it no welcome SMS is sent. */
  phone: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/)
    .optional(),
  /** How long the user has to click the verification link (default 24 h). */
  verificationTimeoutMs: z
    .number()
    .int()
    .positive()
    .max(30 * DAY_MS)
    .default(DAY_MS),
});

export type SignUpInput = z.input<typeof SignUpInputSchema>;

/** How each welcome message ended; a failed one does not undo the sign-up. */
export type WelcomeStatus = 'sent' | 'failed' | 'skipped';

/** Context of `sign-up` (persisted data). */
export interface SignUpContext {
  input: SignUpInput;
  account: UserAccountRef | null;
  paymentCustomer: PaymentCustomerRef | null;
  welcome: { email: WelcomeStatus | null; sms: WelcomeStatus | null };
  failure: SagaFailure | null;
  compensationFailure: SagaFailure | null;
  resolutions: SagaResolution[];
  cancellation: { reason: string | null } | null;
}

/** Events `sign-up` accepts besides step results and its own deadline. */
export type SignUpEvent =
  | { type: 'email.verified'; email?: string }
  | { type: 'workflow.cancel'; reason?: string }
  | { type: 'operator.retry' }
  | { type: 'operator.resolve'; reason: string };

/** Result of a completed sign-up. */
export interface SignUpResult {
  customerId: string;
  paymentCustomerId: string;
  welcome: SignUpContext['welcome'];
}

type Ev = { output?: unknown; error?: unknown; reason?: string };
const ev = (e: unknown) => e as Ev;
// After the account is undone: cancelled if a cancel started the roll back.
const afterAccountUndo = [{ guard: 'cancelRequested', target: '#sign-up.cancelled' }, { target: '#sign-up.rolled_back' }];

const accountInput = ({ context }: { context: SignUpContext }) => ({ name: context.input.name, email: context.input.email });
const paymentCustomerInput = ({ context }: { context: SignUpContext }) => ({ email: context.input.email, name: context.input.name });

// One parallel region per welcome message; with `onlyIf`, the region is skipped when that guard fails.
const welcomeRegion = (
  channel: 'email' | 'sms',
  id: string,
  src: string,
  input: (a: { context: SignUpContext }) => unknown,
  onlyIf?: string,
): any => {
  const set = (status: WelcomeStatus) => ({ type: 'setWelcome', params: { channel, status } });
  return {
    initial: onlyIf ? 'deciding' : 'sending',
    states: {
      ...(onlyIf && {
        deciding: {
          always: [
            { guard: onlyIf, target: 'sending' },
            { target: 'finished', actions: set('skipped') },
          ],
        },
      }),
      sending: {
        tags: ['running'],
        meta: { step: id, phase: 'action' },
        invoke: {
          id,
          src,
          input,
          onDone: { target: 'finished', actions: set('sent') },
          onError: { target: 'finished', actions: set('failed') },
        },
      },
      finished: { type: 'final' },
    },
  };
};

/**
 * Self-service sign-up: create the account, wait for the email to be verified
 * (with a deadline), create the payment customer, send welcome email and SMS.
 *
 * @remarks Hand-written, not `defineSaga`, because it waits for an external
 * event. Invoke ids: `account`, `verificationEmail`, `paymentCustomer`,
 * `welcomeEmail`, `welcomeSms`, `compensate.account`,
 * `compensate.paymentCustomer`. The deadline is the delayed transition
 * `after.verificationTimeout` (the runtime stores it as a timer row); when it
 * fires the account is deleted. Welcome messages run in parallel after the
 * payment customer exists; a message that still fails after its retries is
 * reported in the output but does not undo a verified sign-up.
 */
export const signUpMachine = setup({
  types: {
    context: {} as SignUpContext,
    input: {} as SignUpInput,
    events: {} as SignUpEvent,
    output: {} as SagaOutput<SignUpResult>,
  },
  actors: {
    createUserAccount: step<CreateUserAccountInput, UserAccountRef>({ maxAttempts: 5 }),
    deleteUserAccount: step<UserAccountRef, UndoResult>({ maxAttempts: 10 }),
    sendVerificationEmail: step<VerificationEmailInput, SentMessage>({ maxAttempts: 5 }),
    createPaymentCustomer: step<CreatePaymentCustomerInput, PaymentCustomerRef>({ maxAttempts: 5 }),
    deletePaymentCustomer: step<PaymentCustomerRef, UndoResult>({ maxAttempts: 10 }),
    sendWelcomeEmail: step<WelcomeEmailInput, SentMessage>({ maxAttempts: 8, maxDelayMs: 600_000 }),
    sendWelcomeSms: step<WelcomeSmsInput, SentMessage>({ maxAttempts: 8, maxDelayMs: 600_000 }),
  },
  delays: {
    verificationTimeout: ({ context }) => context.input.verificationTimeoutMs ?? DAY_MS,
  },
  guards: {
    cancelRequested: ({ context }) => context.cancellation !== null,
    hasPhone: ({ context }) => context.input.phone !== undefined,
    // A verification for another address (an old link after an email change) is not ours.
    sameEmail: ({ context, event }) =>
      event.type === 'email.verified' && (event.email === undefined || event.email.toLowerCase() === context.input.email.toLowerCase()),
    ...compensationGuards,
    ...recoveryGuards,
  },
  actions: {
    setWelcome: assign({
      welcome: ({ context }, p: { channel: 'email' | 'sms'; status: WelcomeStatus }) => ({ ...context.welcome, [p.channel]: p.status }),
    }),
    recordCancel: assign({ cancellation: ({ event }) => ({ reason: ev(event).reason ?? null }) }),
    storeRecoveredAccount: assign({ account: ({ event }) => recoveredResult(event) as UserAccountRef }),
    storeRecoveredPaymentCustomer: assign({ paymentCustomer: ({ event }) => recoveredResult(event) as PaymentCustomerRef }),
    recordFailure: assign({ failure: ({ event }, p: { step: string }) => failureOf(p.step, event) }),
    recordTimeout: assign({
      failure: ({ context }) => ({
        step: 'verifyEmail',
        error: { name: 'VerificationTimeout', message: `email not verified within ${context.input.verificationTimeoutMs ?? DAY_MS} ms` },
      }),
    }),
    // Typed against the minimal compensation context, which XState cannot relate to this one.
    ...(compensationActions as {}),
  },
}).createMachine({
  id: 'sign-up',
  description: 'Sign-up with email verification, payment customer and welcome messages',
  context: ({ input }) => ({
    input,
    account: null,
    paymentCustomer: null,
    welcome: { email: null, sms: null },
    failure: null,
    compensationFailure: null,
    resolutions: [],
    cancellation: null,
  }),
  initial: 'creatingAccount',
  states: {
    creatingAccount: {
      tags: ['running'],
      meta: { step: 'account', phase: 'action', roles: { 'workflow.cancel': OPERATOR_ROLES } },
      on: { 'workflow.cancel': { actions: 'recordCancel' } },
      invoke: {
        id: 'account',
        src: 'createUserAccount',
        input: accountInput,
        onDone: [
          { guard: 'cancelRequested', target: '#sign-up.compensating.account', actions: assign({ account: ({ event }) => event.output }) },
          { target: 'sendingVerification', actions: assign({ account: ({ event }) => event.output }) },
        ],
        onError: [
          // The account may exist although the call failed (a lost response): look it up by key and undo it.
          {
            guard: 'outcomeUnknown',
            target: '#sign-up.compensating.account_recovery',
            actions: { type: 'recordFailure', params: { step: 'account' } },
          },
          { target: 'rolled_back', actions: { type: 'recordFailure', params: { step: 'account' } } },
        ],
      },
    },
    sendingVerification: {
      tags: ['running'],
      meta: { step: 'verificationEmail', phase: 'action', roles: { 'workflow.cancel': OPERATOR_ROLES } },
      on: { 'workflow.cancel': { actions: 'recordCancel' } },
      invoke: {
        id: 'verificationEmail',
        src: 'sendVerificationEmail',
        input: ({ context }) => ({ email: context.input.email, name: context.input.name, customerId: context.account!.customerId }),
        onDone: [{ guard: 'cancelRequested', target: '#sign-up.compensating.account' }, { target: 'awaitingVerification' }],
        onError: { target: '#sign-up.compensating.account', actions: { type: 'recordFailure', params: { step: 'verificationEmail' } } },
      },
    },
    awaitingVerification: {
      tags: ['running'],
      meta: { step: 'verifyEmail', phase: 'wait', waitsFor: 'email.verified', roles: { 'workflow.cancel': OPERATOR_ROLES } },
      on: {
        'email.verified': { guard: 'sameEmail', target: 'creatingPaymentCustomer' },
        // Nothing is in flight while waiting: undo at once.
        'workflow.cancel': { target: '#sign-up.compensating.account', actions: 'recordCancel' },
      },
      after: { verificationTimeout: { target: '#sign-up.compensating.account', actions: 'recordTimeout' } },
    },
    creatingPaymentCustomer: {
      tags: ['running'],
      meta: { step: 'paymentCustomer', phase: 'action', roles: { 'workflow.cancel': OPERATOR_ROLES } },
      on: { 'workflow.cancel': { actions: 'recordCancel' } },
      invoke: {
        id: 'paymentCustomer',
        src: 'createPaymentCustomer',
        input: paymentCustomerInput,
        onDone: [
          {
            guard: 'cancelRequested',
            target: '#sign-up.compensating.paymentCustomer',
            actions: assign({ paymentCustomer: ({ event }) => event.output }),
          },
          { target: 'welcoming', actions: assign({ paymentCustomer: ({ event }) => event.output }) },
        ],
        onError: [
          {
            guard: 'outcomeUnknown',
            target: '#sign-up.compensating.paymentCustomer_recovery',
            actions: { type: 'recordFailure', params: { step: 'paymentCustomer' } },
          },
          { target: '#sign-up.compensating.account', actions: { type: 'recordFailure', params: { step: 'paymentCustomer' } } },
        ],
      },
    },
    // The account is complete here; a cancel is no longer accepted.
    welcoming: {
      type: 'parallel',
      states: {
        email: welcomeRegion('email', 'welcomeEmail', 'sendWelcomeEmail', ({ context }) => ({
          email: context.input.email,
          name: context.input.name,
          customerId: context.account!.customerId,
        })),
        sms: welcomeRegion(
          'sms',
          'welcomeSms',
          'sendWelcomeSms',
          ({ context }) => ({ phone: context.input.phone!, name: context.input.name }),
          'hasPhone',
        ),
      },
      onDone: 'completed',
    },
    compensating: {
      initial: 'account',
      states: {
        ...compensationStates<SignUpContext>({
          step: 'paymentCustomer',
          src: 'deletePaymentCustomer',
          input: ({ context }) => context.paymentCustomer,
          next: [{ target: 'account' }],
        }),
        ...compensationStates<SignUpContext>({
          step: 'account',
          src: 'deleteUserAccount',
          input: ({ context }) => context.account,
          next: afterAccountUndo,
        }),
        ...recoveryStates<SignUpContext>({
          step: 'paymentCustomer',
          src: 'createPaymentCustomer',
          input: paymentCustomerInput,
          store: 'storeRecoveredPaymentCustomer',
          compensation: 'paymentCustomer',
          next: [{ target: 'account' }],
        }),
        ...recoveryStates<SignUpContext>({
          step: 'account',
          src: 'createUserAccount',
          input: accountInput,
          store: 'storeRecoveredAccount',
          compensation: 'account',
          next: afterAccountUndo,
        }),
      },
    },
    completed: {
      type: 'final',
      tags: ['completed'],
      output: ({ context }) => ({
        outcome: 'completed' as const,
        result: {
          customerId: context.account!.customerId,
          paymentCustomerId: context.paymentCustomer!.paymentCustomerId,
          welcome: context.welcome,
        },
      }),
    },
    rolled_back: { type: 'final', tags: ['rolled_back'], output: ({ context }) => rolledBackOutput(context) },
    cancelled: { type: 'final', tags: ['cancelled'], output: ({ context }) => cancelledOutput(context) },
  },
  output: ({ event }) => (event as unknown as { output: SagaOutput<SignUpResult> }).output,
});
