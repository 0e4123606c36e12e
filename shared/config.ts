import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * Every application setting the app reads, parsed once. A missing or malformed
 * setting stops start-up with a message naming it (see loadConfig).
 * Keep this list, local.settings.sample.json, docs/CONFIGURATION.md and the
 * Function App settings in infra/ in step: a test compares them.
 */
const csv = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0));
const positiveInt = z.coerce.number().int().positive();
const httpUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));

export const settingsSchema = z
  .object({
    /** `development` relaxes the PUBLIC_URL rule (loopback/http allowed) and allows the environment secret source. */
    CONNECT_ENVIRONMENT: z.enum(['development', 'production']).default('production'),

    // Storage: a connection string locally (Azurite); identity-based service URIs in Azure.
    AzureWebJobsStorage: z.string().min(1).optional(),
    AzureWebJobsStorage__tableServiceUri: httpUrl.optional(),
    AzureWebJobsStorage__queueServiceUri: httpUrl.optional(),
    AzureWebJobsStorage__clientId: z.string().min(1).optional(),

    // Vantagepoint
    VANTAGEPOINT_BASE_URL: httpUrl,
    VANTAGEPOINT_AUTH_MODE: z.enum(['vantagepoint', 'windows']).default('vantagepoint'),
    VANTAGEPOINT_DATABASE: z.string().default(''),
    VANTAGEPOINT_CLIENT_ID: z.string().min(1),
    VANTAGEPOINT_SERVICE_USERNAME: z.string().min(1),
    /** Role names that grant Connect Administration, compared with the user record's `Role` where Vantagepoint returns one. */
    CONNECT_ADMIN_ROLES: csv.default(['ADMIN']),
    /** Usernames that are Connect administrators where the user record carries no `Role` (Deltek's documented shape). */
    CONNECT_ADMIN_USERS: csv.default([]),
    /** How long a caller check is trusted: an administrator who loses the role loses access within this time. */
    CALLER_CACHE_SECONDS: z.coerce.number().int().min(1).max(300).default(60),
    /**
     * Vantagepoint-bearer mode (unverified, off by default): the path under /api that answers the
     * caller's own user record for the caller's Vantagepoint token. No Deltek source documents one.
     */
    VANTAGEPOINT_WHOAMI_PATH: z
      .string()
      .regex(/^\/[A-Za-z0-9/_.-]+$/, 'a path under /api such as /user/me')
      .optional(),

    // Admin sessions (POST /api/session): the service's own signed token.
    /** Key Vault secret holding the session signing keys: one or two (rotation), separated by commas; the first signs. */
    SESSION_SIGNING_KEYS_SECRET_NAME: z.string().regex(/^[0-9A-Za-z-]{1,127}$/).default('session-signing-keys'),
    /** Development only (no Key Vault); without it sign-in answers 503 naming it, everything else works. */
    SESSION_SIGNING_KEYS: z.string().min(1).optional(),
    SESSION_LIFETIME_MINUTES: z.coerce.number().int().min(5).max(720).default(60),
    /** Failed sign-ins per username, and per client address, before further attempts wait (429). */
    SIGN_IN_MAX_FAILURES: positiveInt.default(5),
    SIGN_IN_MAX_FAILURES_PER_ADDRESS: positiveInt.default(20),
    SIGN_IN_LOCKOUT_SECONDS: positiveInt.default(900),
    /** Key Vault secret holding the Vantagepoint admin form's key (server to server); empty turns the form-key mode off. */
    CONNECT_FORM_KEY_SECRET_NAME: z.string().regex(/^[0-9A-Za-z-]{1,127}$/).optional(),
    CONNECT_FORM_KEY: z.string().min(16).optional(),

    // Graph notifications: clientState is an HMAC (shared/domain/clientState.ts) keyed from this secret.
    /** Key Vault secret holding the clientState keys: one or two (rotation), separated by commas; the first signs. */
    CLIENT_STATE_KEYS_SECRET_NAME: z.string().regex(/^[0-9A-Za-z-]{1,127}$/).default('client-state-keys'),
    /** Development only (no Key Vault): the same keys from the environment. */
    CLIENT_STATE_KEYS: z.string().min(1).optional(),

    // Secrets: Key Vault when KEY_VAULT_URL is set; environment otherwise (development only).
    KEY_VAULT_URL: httpUrl.optional(),
    /** Key Vault secret names (or, in development, read from the environment variables below). */
    VANTAGEPOINT_CLIENT_SECRET_NAME: z.string().regex(/^[0-9A-Za-z-]{1,127}$/).default('vantagepoint-client-secret'),
    VANTAGEPOINT_SERVICE_PASSWORD_SECRET_NAME: z.string().regex(/^[0-9A-Za-z-]{1,127}$/).default('vantagepoint-service-password'),
    VANTAGEPOINT_CLIENT_SECRET: z.string().min(1).optional(),
    VANTAGEPOINT_SERVICE_PASSWORD: z.string().min(1).optional(),
    /** How often (seconds) the cached secret is checked for a new Key Vault version. */
    SECRET_REFRESH_SECONDS: positiveInt.default(300),

    /** Outbound IP addresses of the Function App, published for the Vantagepoint allow list. */
    OUTBOUND_IP_ADDRESSES: csv.default([]),

    // Microsoft Graph
    GRAPH_BASE_URL: httpUrl.default('https://graph.microsoft.com/v1.0'),
    GRAPH_AUTHORITY_HOST: httpUrl.default('https://login.microsoftonline.com'),
    GRAPH_TENANT_ID: z.string().min(1).optional(),
    GRAPH_CLIENT_ID: z.string().min(1).optional(),
    /** Key Vault secret name of the Graph app registration's client secret; absent → managed identity. */
    GRAPH_CLIENT_SECRET_NAME: z.string().regex(/^[0-9A-Za-z-]{1,127}$/).optional(),
    GRAPH_CLIENT_SECRET: z.string().min(1).optional(),
    /** Public HTTPS URL of POST /api/notifications/graph, given to Graph as notificationUrl and lifecycleNotificationUrl. */
    GRAPH_NOTIFICATION_URL: httpUrl,
    GRAPH_RESOURCES: csv
      .pipe(z.array(z.enum(['events', 'contacts', 'messages'])).min(1))
      .default(['events', 'contacts', 'messages']),
    SUBSCRIPTION_LIFETIME_MINUTES: z.coerce.number().int().min(45).max(10080).default(4320),
    SUBSCRIPTION_RENEWAL_MARGIN_MINUTES: z.coerce.number().int().min(5).max(10000).default(1440),
    /** Graph's per-tenant subscription write limit (writes per window). */
    GRAPH_WRITE_LIMIT: positiveInt.default(500),
    GRAPH_WRITE_WINDOW_SECONDS: positiveInt.default(20),

    /**
     * Mailbox (UPN) that notification emails are sent from with Graph's sendMail (application
     * permission Mail.Send); empty turns notification emails off.
     */
    NOTIFICATION_SENDER: z.email().optional(),

    // Reconciler
    RECONCILE_SCHEDULE: z.string().regex(/^(\S+\s+){5}\S+$/, 'a 6-field NCRONTAB expression').default('0 */5 * * * *'),
    RECONCILE_TIME_BUDGET_SECONDS: positiveInt.default(240),
    RECONCILE_CONCURRENCY: positiveInt.default(32),
    RECONCILE_MAX_FAILURES: positiveInt.default(10),

    // Data sync (Outlook events → Vantagepoint activities; docs/DATA-SYNC.md)
    /** The Outlook category that marks an event for Vantagepoint (compared ignoring case). */
    SYNC_CATEGORY: z.string().trim().min(1).max(255).default('Vantagepoint'),
    /** Events that ended more than this many days ago are left alone (Deltek's Gmail rule: 2 weeks). */
    SYNC_WINDOW_DAYS: z.coerce.number().int().min(1).max(365).default(14),
    /** How far ahead the catch-up (calendarView/delta) looks for future events. */
    SYNC_HORIZON_DAYS: z.coerce.number().int().min(1).max(1825).default(365),
    /** The Vantagepoint activity type (code table CFGActivityType, a Calendar type) written on every activity. */
    ACTIVITY_TYPE: z.string().trim().min(1).max(64).default('Meeting'),

    // Admin page
    /**
     * Origins allowed to frame the admin page besides the app itself (CSP frame-ancestors),
     * comma- or space-separated, e.g. https://acme.deltekfirst.com or https://*.deltekfirst.com.
     */
    ADMIN_PAGE_FRAME_ANCESTORS: z
      .string()
      .transform((v) => v.split(/[\s,]+/).filter((s) => s.length > 0))
      .pipe(z.array(z.string().regex(/^https?:\/\/(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::\d{1,5})?$/, 'an origin such as https://acme.deltekfirst.com (scheme and host, no path)')))
      .default([]),
  })
  .superRefine((s, ctx) => {
    if (!s.AzureWebJobsStorage && !(s.AzureWebJobsStorage__tableServiceUri && s.AzureWebJobsStorage__queueServiceUri)) {
      ctx.addIssue({
        code: 'custom',
        path: ['AzureWebJobsStorage'],
        message: 'set AzureWebJobsStorage (connection string) or AzureWebJobsStorage__tableServiceUri and AzureWebJobsStorage__queueServiceUri',
      });
    }
    if (s.SUBSCRIPTION_RENEWAL_MARGIN_MINUTES >= s.SUBSCRIPTION_LIFETIME_MINUTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['SUBSCRIPTION_RENEWAL_MARGIN_MINUTES'],
        message: 'must be less than SUBSCRIPTION_LIFETIME_MINUTES',
      });
    }
    if (!s.KEY_VAULT_URL) {
      if (s.CONNECT_ENVIRONMENT !== 'development') {
        ctx.addIssue({ code: 'custom', path: ['KEY_VAULT_URL'], message: 'required outside development (secrets come from Key Vault)' });
      }
      for (const name of ['VANTAGEPOINT_CLIENT_SECRET', 'VANTAGEPOINT_SERVICE_PASSWORD'] as const) {
        if (!s[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'required when KEY_VAULT_URL is not set' });
      }
    }
  });

export type Config = z.infer<typeof settingsSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Time a run needs after its budget: the provider call in flight stops at the deadline, then the
 * outcomes are recorded and the continuation message is sent. The budget plus this must fit
 * under the host's functionTimeout, or the run is killed, redelivered and ends in poison.
 */
export const RECONCILE_HEADROOM_SECONDS = 60;

/** "hh:mm:ss" (host.json's functionTimeout) in seconds; undefined when absent or unbounded (-1). */
export function timeSpanSeconds(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(value.trim());
  if (!match) return undefined;
  const [, days, h, m, s] = match;
  return Number(days ?? 0) * 86_400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
}

/**
 * The functionTimeout the app runs under: the app setting that overrides host.json
 * (AzureFunctionsJobHost__functionTimeout), else host.json beside the app.
 */
export function functionTimeoutSeconds(env: Record<string, string | undefined>): number | undefined {
  const override = timeSpanSeconds(env.AzureFunctionsJobHost__functionTimeout);
  if (override !== undefined) return override;
  for (const candidate of [path.join(__dirname, '..', 'host.json'), path.join(__dirname, '..', '..', 'host.json')]) {
    if (!fs.existsSync(candidate)) continue;
    return timeSpanSeconds((JSON.parse(fs.readFileSync(candidate, 'utf8')) as { functionTimeout?: unknown }).functionTimeout);
  }
  return undefined;
}

/** Parses settings from an environment-like record; throws ConfigError naming every bad setting. */
export function parseConfig(env: Record<string, string | undefined>, host: { functionTimeoutSeconds?: number | undefined } = { functionTimeoutSeconds: functionTimeoutSeconds(env) }): Config {
  // Empty strings mean "not set" (App Service and local.settings.json both produce them).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = settingsSchema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  detectUnresolvedKeyVaultReferences(cleaned);
  const limit = host.functionTimeoutSeconds;
  if (limit !== undefined && result.data.RECONCILE_TIME_BUDGET_SECONDS + RECONCILE_HEADROOM_SECONDS > limit) {
    throw new ConfigError([
      `RECONCILE_TIME_BUDGET_SECONDS: ${result.data.RECONCILE_TIME_BUDGET_SECONDS} s plus ${RECONCILE_HEADROOM_SECONDS} s to hand over does not fit under the functionTimeout of ${limit} s; lower it to at most ${limit - RECONCILE_HEADROOM_SECONDS}`,
    ]);
  }
  return result.data;
}

/** An unresolved App Service Key Vault reference leaves the literal in the variable. */
function detectUnresolvedKeyVaultReferences(env: Record<string, string | undefined>): void {
  const bad = Object.entries(env)
    .filter(([k, v]) => k in settingsSchema.shape && typeof v === 'string' && v.startsWith('@Microsoft.KeyVault('))
    .map(([k]) => `${k}: Key Vault reference was not resolved by the platform`);
  if (bad.length > 0) throw new ConfigError(bad);
}

let cached: Config | undefined;
/** The process-wide configuration, parsed on first use. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  cached ??= parseConfig(env);
  return cached;
}
