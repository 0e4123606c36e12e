/** Microsoft Graph adapter: the MailProvider for Outlook mailboxes and its throttling. */
export { createMailProvider, type MailProviderOptions } from './provider';
export {
  WriteLimiter,
  KeyedSemaphore,
  MAILBOX_CONCURRENCY,
  defaultWriteLimiter,
  defaultMailboxSemaphore,
  defaultListLimiter,
  systemClock,
  type Clock,
  type WriteLimiterOptions,
} from './limiter';
export { TenantShare, type WriterRegistry, type TenantShareOptions } from './share';
export { CachedCredential, PlainClientCredential, createGraphCredential, GRAPH_SCOPE } from './credential';
export { CHANGE_TYPES, classify, toBatchRequest } from './operations';
export { createMailer, type MailerOptions } from './sendMail';
