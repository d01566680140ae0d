export { ApiKey } from './api-key.entity.ts';
