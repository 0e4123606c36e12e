import { useState } from 'preact/hooks';
import { call } from '../api';
import { Check, ProblemAlert } from '../components';
import { when } from '../format';
import type { CredentialHealth, Prerequisite } from '../types';

/** The organisation prerequisites of the help topic, each with its message. */
export function OrganisationChecks({ checks }: { checks: Prerequisite[] }) {
  const failing = checks.filter((c) => !c.ok).length;
  return (
    <section class="card" aria-labelledby="org-h">
      <h2 id="org-h">Organisation prerequisites</h2>
      <p class={failing ? 'summary summary-bad' : 'summary summary-good'}>
        {failing ? `${failing} of ${checks.length} not met: no group can be enabled until they are.` : 'All met: groups can be enabled.'}
      </p>
      <ul class="checks">
        {checks.map((c) => (
          <Check key={c.code} ok={c.ok}>
            <strong>{c.code.replace(/_/g, ' ')}</strong> — {c.message}
          </Check>
        ))}
      </ul>
    </section>
  );
}

/** Health of the Vantagepoint API credential, with the manual "refresh token now". */
export function CredentialCard({ credential, onRefreshed }: { credential: CredentialHealth; onRefreshed: (c: CredentialHealth) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function refresh() {
    setBusy(true);
    setError(null);
    try {
      onRefreshed((await call<CredentialHealth>('POST', 'connect/token/refresh')).data);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="card" aria-labelledby="cred-h">
      <h2 id="cred-h">API credential</h2>
      <p class={credential.ok ? 'summary summary-good' : 'summary summary-bad'}>
        {credential.ok ? 'Healthy: Vantagepoint accepts the client secret.' : 'Failing: Vantagepoint does not accept the client secret.'}
      </p>
      <dl class="facts">
        <dt>Secret source</dt>
        <dd>{credential.secretSource === 'key-vault' ? 'Azure Key Vault' : 'Environment (development)'}</dd>
        <dt>Secret version</dt>
        <dd>{credential.secretVersion ?? '—'}</dd>
        <dt>Last token</dt>
        <dd>{when(credential.lastTokenAt)}</dd>
        {credential.lastError && (
          <>
            <dt>Last error</dt>
            <dd>{credential.lastError}</dd>
          </>
        )}
      </dl>
      <ProblemAlert error={error} />
      <button type="button" class="btn btn-secondary" onClick={refresh} disabled={busy}>
        {busy ? 'Refreshing…' : 'Refresh token'}
      </button>
    </section>
  );
}

export function OutboundIps({ addresses }: { addresses: string[] }) {
  return (
    <section class="card" aria-labelledby="ip-h">
      <h2 id="ip-h">Outbound IP addresses</h2>
      <p class="muted">Add these to Vantagepoint's IP allow list so the service can reach it.</p>
      {addresses.length ? (
        <ul class="ip-list">
          {addresses.map((a) => (
            <li key={a}>
              <code>{a}</code>
            </li>
          ))}
        </ul>
      ) : (
        <p>None configured (OUTBOUND_IP_ADDRESSES).</p>
      )}
    </section>
  );
}

/**
 * Graph access (the GRAPH_ACCESS check of connect status: the organisation-level breaker);
 * its cause and since-when are shown as sent.
 */
export function GraphHealth({ graph }: { graph: unknown }) {
  if (!graph || typeof graph !== 'object') return null;
  const g = graph as { ok?: boolean; message?: string; detail?: string; [k: string]: unknown };
  const facts = Object.entries(g).filter(([k, v]) => k !== 'ok' && k !== 'message' && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null));
  return (
    <section class="card" aria-labelledby="graph-h">
      <h2 id="graph-h">Microsoft Graph</h2>
      {typeof g.ok === 'boolean' && (
        <p class={g.ok ? 'summary summary-good' : 'summary summary-bad'}>{g.ok ? 'Healthy' : 'Failing'}{g.message ? `: ${g.message}` : ''}</p>
      )}
      <dl class="facts">
        {facts.map(([k, v]) => (
          <>
            <dt key={`${k}-t`}>{k}</dt>
            <dd key={`${k}-d`}>{typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? when(v) : String(v)}</dd>
          </>
        ))}
      </dl>
    </section>
  );
}

/**
 * The data sync (Outlook meetings → Vantagepoint activities): whether the configured activity type
 * exists in Vantagepoint (the ACTIVITY_TYPE check, looked up at start-up) and the open sync issues.
 */
export function DataSyncHealth({ check, issues }: { check: { ok: boolean; message: string; error: string | null } | undefined; issues: { issues: number; users: number } }) {
  return (
    <section class="card" aria-labelledby="datasync-h">
      <h2 id="datasync-h">Data sync to Vantagepoint</h2>
      {check && <p class={check.ok ? 'summary summary-good' : 'summary summary-bad'}>{check.ok ? 'Activity type found' : check.error === 'UNVERIFIABLE' ? 'Activity type not checked yet' : 'Activity type missing'}: {check.message}</p>}
      <p>
        {issues.issues === 0 ? 'No open sync issues.' : `${issues.issues} open sync issue${issues.issues === 1 ? '' : 's'} for ${issues.users} user${issues.users === 1 ? '' : 's'}: see each group's Sync Issues tab.`}
      </p>
    </section>
  );
}
