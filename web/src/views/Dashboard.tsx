import { get, query } from '../api';
import { Counts, Loading, Pager, ProblemAlert, SwitchBadge } from '../components';
import { STATUS_LABEL, STATUSES } from '../format';
import { useLoad, usePaged } from '../hooks';
import type { ConnectStatus, Group, Page } from '../types';
import { CredentialCard, DataSyncHealth, GraphHealth, OrganisationChecks, OutboundIps } from './ConnectParts';

export function Dashboard() {
  const status = useLoad((signal) => get<ConnectStatus>('connect/status', signal).then((a) => a.data), []);
  const groups = usePaged<Group>((token, signal) => get<Page<Group>>(`groups${query({ top: 10, continuationToken: token })}`, signal).then((a) => a.data), []);
  const s = status.data;
  return (
    <>
      <div class="page-head">
        <h1>Dashboard</h1>
        <button type="button" class="btn btn-secondary" onClick={() => (status.reload(), groups.reload())}>
          Refresh
        </button>
      </div>
      <ProblemAlert error={status.error} />
      {!s && !status.error && <Loading what="the status" />}
      {s && (
        <>
          <section class="card" aria-labelledby="totals-h">
            <h2 id="totals-h">Users by synchronization status</h2>
            <p class="muted">All members of all {s.groups} groups.</p>
            <ul class="tiles">
              {STATUSES.map((st) => (
                <li key={st} class={`tile tile-${st}`}>
                  <span class="tile-n">{s.counts[st]}</span>
                  <span class="tile-label">{STATUS_LABEL[st]}</span>
                </li>
              ))}
            </ul>
          </section>
          <div class="grid-2">
            <OrganisationChecks checks={s.organisation} />
            <CredentialCard credential={s.credential} onRefreshed={() => status.reload()} />
            <GraphHealth graph={s.checks.find((c) => c.code === 'GRAPH_ACCESS')} />
            <DataSyncHealth check={s.checks.find((c) => c.code === 'ACTIVITY_TYPE')} issues={s.syncIssues} />
            <OutboundIps addresses={s.outboundIpAddresses} />
          </div>
        </>
      )}
      <section class="card" aria-labelledby="pergroup-h">
        <h2 id="pergroup-h">By group</h2>
        <ProblemAlert error={groups.error} />
        {!groups.items && !groups.error && <Loading what="groups" />}
        {groups.items && groups.items.length === 0 && <p class="muted">No groups yet. Create one on the Groups tab.</p>}
        {groups.items && groups.items.length > 0 && (
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Synchronization</th>
                <th scope="col">Members by status</th>
              </tr>
            </thead>
            <tbody>
              {groups.items.map((g) => (
                <tr key={g.id}>
                  <td data-label="Group">
                    <a href={`#/groups/${encodeURIComponent(g.id)}/users`}>{g.name}</a>
                  </td>
                  <td data-label="Synchronization">
                    <SwitchBadge sync={g.sync} />
                  </td>
                  <td data-label="Members by status">
                    <Counts counts={g.counts} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager label="Groups" page={groups.page} hasNext={groups.hasNext} onFirst={groups.first} onPrevious={groups.previous} onNext={groups.next} />
      </section>
    </>
  );
}
