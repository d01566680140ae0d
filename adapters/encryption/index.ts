export { FieldCipher, isSealed, parseEncryptionKeys } from './field-cipher.ts';
export type { EncryptionKey, SealedValue } from './field-cipher.ts';
export { SecretFields, secretPolicyOf } from './secret-fields.ts';
export type { SecretPolicy } from './secret-fields.ts';
export { SealedStore } from './sealed-store.ts';
export { reencrypt } from './reencrypt.ts';
export { SealedOutboxStore } from './sealed-outbox-store.ts';
