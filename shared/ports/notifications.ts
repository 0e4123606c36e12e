/** Notification emails: settings, outbox, de-duplication, incidents. */
import type { GuardThreshold } from '../domain/guard';
import type { Notice, NoticeCause } from '../domain/notices';

/** The organisation's Connect settings (Settings tab): one row, written only by PUT /api/connect/settings. */
export interface ConnectSettings {
  notificationEmails: string[];
  massRemovalGuard: GuardThreshold;
  updatedAt: string | null;
  updatedBy: string | null;
  etag: string;
}

export interface SettingsStore {
  /** null when nobody has saved settings yet (defaults apply) */
  get(): Promise<ConnectSettings | null>;
  /** Create (etag null; ConflictError when someone just did) or replace under the ETag (PreconditionFailedError). */
  save(settings: Omit<ConnectSettings, 'etag'>, etag: string | null): Promise<ConnectSettings>;
}

/** How the last notification emails went: written by the outbox only, shown on connect status. */
export interface MailHealth {
  lastSentAt: string | null;
  lastErrorAt: string | null;
  lastError: string | null;
}
export interface MailHealthStore {
  get(): Promise<MailHealth>;
  recordSent(at: string): Promise<void>;
  recordFailure(at: string, error: string): Promise<void>;
}

/** One email's de-duplication key. */
export interface MailKey {
  recipient: string;
  cause: NoticeCause;
  episode: string;
}
/**
 * claimed: this delivery sends it; sent: it was sent already (nothing to do);
 * busy: another delivery is sending it right now (try again later).
 */
export type MailClaim = 'claimed' | 'sent' | 'busy';
/** What was sent, per (recipient, cause, episode): makes at-least-once delivery send each email once. */
export interface MailLog {
  /** A claim older than `staleAfterMs` belongs to a delivery that died: it is taken over. */
  claim(key: MailKey, now: Date, staleAfterMs: number): Promise<MailClaim>;
  markSent(key: MailKey, now: Date): Promise<void>;
  /** Gives a claim back after a failed send, so a retry can claim it. */
  release(key: MailKey): Promise<void>;
}

/** A notice on its way to the outbox (queue `notification-mail`). */
export interface NoticeMessage {
  notice: Notice;
  requestId: string;
  /** 1 for the first delivery; a scheduled retry carries the next number */
  attempt: number;
}
export interface NoticeQueue {
  /** delaySeconds > 0 schedules it (the message stays invisible that long) */
  publish(message: NoticeMessage, delaySeconds?: number): Promise<void>;
}

export interface OutgoingMail {
  to: string;
  subject: string;
  body: string;
}
export type MailSendResult =
  | { ok: true }
  | {
      ok: false;
      /** transient: throttled, unavailable, unreachable; refused: the provider will not send it as things stand (permission, sender mailbox) */
      failure: 'transient' | 'refused';
      status: number;
      code: string;
      message: string;
      retryAfterMs?: number;
    };
/** Sends one email from the configured sender mailbox. Never throws for the provider's answer. */
export interface Mailer {
  readonly sender: string;
  send(mail: OutgoingMail): Promise<MailSendResult>;
}

/** An organisation-wide failure in progress (its start is the episode its notification belongs to). */
export interface Incident {
  since: string;
  detail: string;
  /** the notice of this episode is on the outbox */
  noticeQueued: boolean;
}
/**
 * Organisation-wide incidents by kind; each kind has one writer: `vantagepoint-credential` the
 * timer's credential check, `graph-access` the announcer of the Graph breaker's episodes.
 */
export type IncidentKind = 'vantagepoint-credential' | 'graph-access';
export interface IncidentStore {
  get(kind: IncidentKind): Promise<Incident | null>;
  put(kind: IncidentKind, incident: Incident): Promise<void>;
  clear(kind: IncidentKind): Promise<void>;
}
