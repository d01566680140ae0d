import type { Clients } from './clients/index.ts';
import { callOptions, defineStep, undo } from './step-helpers.ts';
import type { StepImplementation } from '../runtime/step-types.ts';
import type { UndoResult } from './subscriber-steps.ts';

/**
 * Steps of self-service sign-up: the user account, the verification email,
 * the payment-provider customer and the welcome messages.
 */

export interface CreateUserAccountInput {
  name: string;
  email: string;
}
export interface UserAccountRef {
  customerId: string;
}
export interface VerificationEmailInput {
  email: string;
  name: string;
  customerId: string;
}
export interface CreatePaymentCustomerInput {
  email: string;
  name: string;
}
export interface PaymentCustomerRef {
  paymentCustomerId: string;
}
export interface WelcomeEmailInput {
  email: string;
  name: string;
  customerId: string;
}
export interface WelcomeSmsInput {
  phone: string;
  name: string;
}
export interface SentMessage {
  messageId: string;
}

/**
 * Creates the sign-up steps, named as the machine references them.
 *
 * @remarks The messaging client deduplicates by idempotency key, and the key
 * is the same on every attempt of an invocation, so a retried or re-run
 * welcome message is never delivered twice.
 *
 * @example
 * ```ts
 * await createSignupSteps(clients).sendWelcomeSms.run({ phone: '+3312345678', name: 'Ada' }, ctx);
 * ```
 */
export function createSignupSteps(clients: Clients) {
  const { customers, payments, messaging } = clients;
  return {
    createUserAccount: defineStep<CreateUserAccountInput, UserAccountRef>(async (input, ctx) => {
      const customer = await customers.createCustomer({ name: input.name, email: input.email }, callOptions(ctx));
      return { customerId: customer.id };
    }),
    deleteUserAccount: defineStep<UserAccountRef, UndoResult>(async ({ customerId }, ctx) => ({
      id: customerId,
      ...(await undo(() => customers.deleteCustomer(customerId, callOptions(ctx)))),
    })),

    // The link in the email carries the workflow instance id, so the handler
    // behind it knows which instance to send `email.verified` to.
    sendVerificationEmail: defineStep<VerificationEmailInput, SentMessage>(async (input, ctx) => {
      const sent = await messaging.sendEmail(
        { to: input.email, template: 'verify-email', data: { name: input.name, customerId: input.customerId, instanceId: ctx.instanceId } },
        callOptions(ctx),
      );
      return { messageId: sent.messageId };
    }),

    createPaymentCustomer: defineStep<CreatePaymentCustomerInput, PaymentCustomerRef>(async (input, ctx) => {
      const created = await payments.createCustomer(input, callOptions(ctx));
      return { paymentCustomerId: created.paymentCustomerId };
    }),
    deletePaymentCustomer: defineStep<PaymentCustomerRef, UndoResult>(async ({ paymentCustomerId }, ctx) => ({
      id: paymentCustomerId,
      ...(await undo(() => payments.deleteCustomer(paymentCustomerId, callOptions(ctx)))),
    })),

    sendWelcomeEmail: defineStep<WelcomeEmailInput, SentMessage>(async (input, ctx) => {
      const sent = await messaging.sendEmail(
        { to: input.email, template: 'welcome', data: { name: input.name, customerId: input.customerId } },
        callOptions(ctx),
      );
      return { messageId: sent.messageId };
    }),
    sendWelcomeSms: defineStep<WelcomeSmsInput, SentMessage>(async (input, ctx) => {
      const sent = await messaging.sendSms({ to: input.phone, text: `Welcome, ${input.name}! Your account is ready.` }, callOptions(ctx));
      return { messageId: sent.messageId };
    }),
  } satisfies Record<string, StepImplementation>;
}

/** The names of the sign-up steps. */
export type SignupStepName = keyof ReturnType<typeof createSignupSteps>;
