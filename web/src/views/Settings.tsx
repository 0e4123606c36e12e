import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, get } from '../api';
import { Loading, ProblemAlert } from '../components';
import { when } from '../format';
import { useLoad } from '../hooks';
import type { ConnectSettings, ConnectStatus } from '../types';
import { CredentialCard, OrganisationChecks, OutboundIps } from './ConnectParts';

export function SettingsView() {
  const status = useLoad((signal) => get<ConnectStatus>('connect/status', signal).then((a) => a.data), []);
  return (
    <>
      <div class="page-head">
        <h1>Settings</h1>
      </div>
      <ConnectSettingsCard />
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

/**
 * "Emails for Notifications" of Deltek's Settings tab and the mass-removal guard
 * (GET/PUT /api/connect/settings). Each save carries the settings' ETag; when another
 * administrator saved first, the page says who and when and offers a reload.
 */
function ConnectSettingsCard() {
  const settings = useLoad((signal) => get<ConnectSettings>('connect/settings', signal).then((a) => a.data), []);
  const [emails, setEmails] = useState('');
  const [percent, setPercent] = useState('');
  const [minimum, setMinimum] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState('');
  const [conflict, setConflict] = useState<ConnectSettings | null>(null);

  useEffect(() => {
    const s = settings.data;
    if (!s) return;
    setEmails(s.notificationEmails.join('\n'));
    setPercent(String(s.massRemovalGuard.percent));
    setMinimum(String(s.massRemovalGuard.minimum));
  }, [settings.data]);

  async function save(body: Record<string, unknown>, what: string) {
    if (!settings.data) return;
    setBusy(true);
    setError(null);
    setSaved('');
    try {
      await call<ConnectSettings>('PUT', 'connect/settings', { body, ifMatch: settings.data.etag });
      setSaved(`${what} saved.`);
      settings.reload();
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) setConflict(await get<ConnectSettings>('connect/settings').then((a) => a.data).catch(() => null));
      else setError(err);
    } finally {
      setBusy(false);
    }
  }

  const s = settings.data;
  return (
    <section class="card" aria-labelledby="emails-h">
      <h2 id="emails-h">Emails for Notifications</h2>
      <p class="muted">
        When synchronization stops for someone (expired credentials, an unknown sync error, or 10 failed syncs in a row), they and these addresses
        are emailed.
      </p>
      <ProblemAlert error={settings.error} />
      {!s && !settings.error && <Loading what="the settings" />}
      {conflict !== null && (
        <div class="alert alert-warning" role="alert">
          <div class="alert-body">
            <strong class="alert-title">These settings were changed by someone else</strong>
            <p>
              {conflict.updatedBy ? (
                <>
                  <strong>{conflict.updatedBy}</strong> saved them on {when(conflict.updatedAt)}.{' '}
                </>
              ) : null}
              Your change was not applied. Reload to see them as they are now.
            </p>
          </div>
          <button type="button" class="btn btn-primary btn-small" onClick={() => (setConflict(null), settings.reload())}>
            Reload
          </button>
        </div>
      )}
      {s && (
        <>
          <form
            class="form"
            onSubmit={(e) => {
              e.preventDefault();
              const notificationEmails = [...new Set(emails.split(/[\s,;]+/).map((x) => x.trim()).filter(Boolean))];
              void save({ notificationEmails }, 'Notification emails');
            }}
          >
            <label class="field">
              <span>Email addresses (one per line, at most 20)</span>
              <textarea name="notificationEmails" rows={4} value={emails} onInput={(e) => setEmails(e.currentTarget.value)} />
            </label>
            <div class="button-row">
              <button type="submit" class="btn btn-primary" disabled={busy}>
                Save emails
              </button>
            </div>
          </form>
          <h3>Mass-removal guard</h3>
          <p class="muted">A synchronization pass that would take more people out of synchronization than this is held until an administrator confirms it.</p>
          <form
            class="form form-row"
            onSubmit={(e) => {
              e.preventDefault();
              void save({ massRemovalGuard: { percent: Number(percent), minimum: Number(minimum) } }, 'Mass-removal guard');
            }}
          >
            <label class="field">
              <span>Percent of a group's active members</span>
              <input name="percent" type="number" min={1} max={100} required value={percent} onInput={(e) => setPercent(e.currentTarget.value)} />
            </label>
            <label class="field">
              <span>But never fewer than (people)</span>
              <input name="minimum" type="number" min={0} required value={minimum} onInput={(e) => setMinimum(e.currentTarget.value)} />
            </label>
            <div class="button-row">
              <button type="submit" class="btn btn-secondary" disabled={busy}>
                Save guard
              </button>
            </div>
          </form>
          <ProblemAlert error={error} />
          {saved && (
            <p class="muted" role="status">
              {saved}
            </p>
          )}
          <p class="muted small">{s.updatedBy ? `Last changed by ${s.updatedBy} on ${when(s.updatedAt)}.` : 'Not changed yet: these are the defaults.'}</p>
        </>
      )}
    </section>
  );
}
