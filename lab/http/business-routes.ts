import { Hono } from 'hono';
import { z } from 'zod';
import type { Lab } from '../lab.ts';
import { callOptions, jsonBody, param, schemas, type LabEnv } from './route-kit.ts';

const period = z.object({ period: z.string() });

/**
 * Routes of the business systems: customer/subscriber store (`/crm`),
 * billing, payments (`Idempotency-Key` as a payment API takes it) and
 * messaging outboxes.
 *
 * @remarks A declined charge answers 201 with `status: "declined"`, as the
 * client contract says; a card API would answer 402 instead.
 */
export function businessRoutes(lab: Lab): Hono<LabEnv> {
  const app = new Hono<LabEnv>();
  const { customers, billing, payments, messaging } = lab.clients;

  app.post('/crm/customers', async (c) => {
    const body = await jsonBody(
      c,
      z.object({ name: z.string(), email: z.string(), tenantId: z.string().optional() }),
      'customers',
      'createCustomer',
    );
    return c.json(await customers.createCustomer(body, callOptions(c, 'customers', 'createCustomer')), 201);
  });
  app.delete('/crm/customers/:id', async (c) => {
    await customers.deleteCustomer(param(c, 'id'), callOptions(c, 'customers', 'deleteCustomer'));
    return c.body(null, 204);
  });
  app.post('/crm/subscribers', async (c) => {
    const body = await jsonBody(
      c,
      z.object({ customerId: z.string(), username: z.string(), plan: z.string() }),
      'customers',
      'createSubscriber',
    );
    return c.json(await customers.createSubscriber(body, callOptions(c, 'customers', 'createSubscriber')), 201);
  });
  app.delete('/crm/subscribers/:id', async (c) => {
    await customers.deleteSubscriber(param(c, 'id'), callOptions(c, 'customers', 'deleteSubscriber'));
    return c.body(null, 204);
  });
  app.put('/crm/subscribers/:id/status', async (c) => {
    const { status } = await jsonBody(c, schemas.status, 'customers', 'setSubscriberStatus');
    return c.json(await customers.setSubscriberStatus(param(c, 'id'), status, callOptions(c, 'customers', 'setSubscriberStatus')));
  });

  app.post('/billing/accounts', async (c) => {
    const body = await jsonBody(c, z.object({ customerId: z.string(), ownerName: z.string() }), 'billing', 'createAccount');
    return c.json(await billing.createAccount(body, callOptions(c, 'billing', 'createAccount')), 201);
  });
  app.post('/billing/accounts/:id/close', async (c) => {
    await billing.closeAccount(param(c, 'id'), callOptions(c, 'billing', 'closeAccount'));
    return c.body(null, 204);
  });
  app.post('/billing/services', async (c) => {
    const body = await jsonBody(
      c,
      z.object({ customerId: z.string(), subscriberId: z.string(), plan: z.string() }),
      'billing',
      'addService',
    );
    return c.json(await billing.addService(body, callOptions(c, 'billing', 'addService')), 201);
  });
  app.delete('/billing/services/:id', async (c) => {
    await billing.removeService(param(c, 'id'), callOptions(c, 'billing', 'removeService'));
    return c.body(null, 204);
  });
  app.put('/billing/services/:id/status', async (c) => {
    const { status } = await jsonBody(c, schemas.status, 'billing', 'setServiceStatus');
    await billing.setServiceStatus(param(c, 'id'), status, callOptions(c, 'billing', 'setServiceStatus'));
    return c.body(null, 204);
  });
  app.get('/billing/billable-accounts', async (c) =>
    c.json(await billing.listBillableAccounts({ period: c.req.query('period') ?? '' }, { signal: c.req.raw.signal })),
  );
  app.post('/billing/usage-ratings', async (c) => {
    const body = await jsonBody(c, period.extend({ accountId: z.string() }), 'billing', 'rateUsage');
    return c.json(await billing.rateUsage(body, callOptions(c, 'billing', 'rateUsage')));
  });
  app.post('/billing/invoices', async (c) => {
    const body = await jsonBody(c, period.extend({ accountId: z.string(), amountCents: z.number() }), 'billing', 'createInvoice');
    return c.json(await billing.createInvoice(body, callOptions(c, 'billing', 'createInvoice')), 201);
  });
  app.post('/billing/invoices/:id/void', async (c) => {
    await billing.voidInvoice(param(c, 'id'), callOptions(c, 'billing', 'voidInvoice'));
    return c.body(null, 204);
  });
  app.post('/billing/invoices/:id/paid', async (c) => {
    const { paymentId } = await jsonBody(c, z.object({ paymentId: z.string() }), 'billing', 'markInvoicePaid');
    await billing.markInvoicePaid(param(c, 'id'), paymentId, callOptions(c, 'billing', 'markInvoicePaid'));
    return c.body(null, 204);
  });

  app.post('/payments/customers', async (c) => {
    const body = await jsonBody(c, z.object({ email: z.string(), name: z.string() }), 'payments', 'createCustomer');
    return c.json(await payments.createCustomer(body, callOptions(c, 'payments', 'createCustomer')), 201);
  });
  app.delete('/payments/customers/:id', async (c) => {
    await payments.deleteCustomer(param(c, 'id'), callOptions(c, 'payments', 'deleteCustomer'));
    return c.body(null, 204);
  });
  app.post('/payments/charges', async (c) => {
    const body = await jsonBody(
      c,
      z.object({ accountId: z.string(), amountCents: z.number(), currency: z.string() }),
      'payments',
      'charge',
    );
    return c.json(await payments.charge(body, callOptions(c, 'payments', 'charge')), 201);
  });
  app.post('/payments/refunds', async (c) => {
    const { paymentId } = await jsonBody(c, z.object({ paymentId: z.string() }), 'payments', 'refund');
    await payments.refund(paymentId, callOptions(c, 'payments', 'refund'));
    return c.body(null, 204);
  });

  app.post('/messaging/emails', async (c) => {
    const email = z.object({ to: z.string(), template: z.string(), data: z.record(z.string(), z.unknown()).optional() });
    const body = await jsonBody(c, email, 'messaging', 'sendEmail');
    return c.json(await messaging.sendEmail(body, callOptions(c, 'messaging', 'sendEmail')), 201);
  });
  app.post('/messaging/sms', async (c) => {
    const body = await jsonBody(c, z.object({ to: z.string(), text: z.string() }), 'messaging', 'sendSms');
    return c.json(await messaging.sendSms(body, callOptions(c, 'messaging', 'sendSms')), 201);
  });

  return app;
}
