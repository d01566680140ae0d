export { WorkflowInstance } from './workflow-instance.entity.ts';
export { WorkflowEvent } from './workflow-event.entity.ts';
export { WorkflowEffect } from './workflow-effect.entity.ts';
export { OutboxMessage } from './outbox-message.entity.ts';
export { ApiKey } from './api-key.entity.ts';
