import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, get } from '../api';
import { Loading, ProblemAlert } from '../components';
import { useLoad } from '../hooks';
import type { ConnectStatus } from '../types';
import { CredentialCard, OrganisationChecks, OutboundIps } from './ConnectParts';

interface ConnectSettings {
  notificationEmails: string[];
  [other: string]: unknown;
}

export function SettingsView() {
  const status = useLoad((signal) => get<ConnectStatus>('connect/status', signal).then((a) => a.data), []);
  return (
    <>
      <div class="page-head">
        <h1>Settings</h1>
      </div>
      <NotificationEmails />
      <ProblemAlert error={status.error} />
      {!status.data && !status.error && <Loading what="the organisation settings" />}
      {status.data && (
        <div class="grid-2">
          <OrganisationChecks checks={status.data.organisation} />
          <CredentialCard credential={status.data.credential} onRefreshed={() => status.reload()} />
          <OutboundIps addresses={status.data.outboundIpAddresses} />
        </div>
      )}
    </>
  );
}

/** "Emails for Notifications" of Deltek's Settings tab (GET/PUT /api/connect/settings, ETag-guarded). */
function NotificationEmails() {
  const settings = useLoad((signal) => get<ConnectSettings>('connect/settings', signal), []);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState('');
  const [conflict, setConflict] = useState(false);

  useEffect(() => {
    if (settings.data) setText(settings.data.data.notificationEmails.join('\n'));
  }, [settings.data]);

  const unavailable = settings.error instanceof ApiError && settings.error.status === 404;

  async function save(e: Event) {
    e.preventDefault();
    if (!settings.data) return;
    setBusy(true);
    setError(null);
    setSaved('');
    try {
      const notificationEmails = [...new Set(text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean))];
      const etag = settings.data.etag ?? (typeof settings.data.data.etag === 'string' ? settings.data.data.etag : undefined);
      await call('PUT', 'connect/settings', { body: { notificationEmails }, ifMatch: etag });
      setSaved('Saved.');
      settings.reload();
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) setConflict(true);
      else setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card" aria-labelledby="emails-h">
      <h2 id="emails-h">Emails for Notifications</h2>
      <p class="muted">
        When synchronization stops for someone (expired credentials, an unknown error, or 10 failed syncs in a row), they and these addresses are
        emailed.
      </p>
      {unavailable && <p class="empty">This service does not offer notification settings yet.</p>}
      {!unavailable && <ProblemAlert error={settings.error} />}
      {!settings.data && !settings.error && <Loading what="the notification settings" />}
      {conflict && (
        <div class="alert alert-warning" role="alert">
          <div class="alert-body">
            <strong class="alert-title">Someone else changed these settings</strong>
            <p>Your change was not applied. Reload to see the current list.</p>
          </div>
          <button type="button" class="btn btn-primary btn-small" onClick={() => (setConflict(false), settings.reload())}>
            Reload
          </button>
        </div>
      )}
      {settings.data && (
        <form class="form" onSubmit={save}>
          <label class="field">
            <span>Email addresses (one per line)</span>
            <textarea name="notificationEmails" rows={4} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          </label>
          <ProblemAlert error={error} />
          {saved && (
            <p class="muted" role="status">
              {saved}
            </p>
          )}
          <div class="button-row">
            <button type="submit" class="btn btn-primary" disabled={busy}>
              Save
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
