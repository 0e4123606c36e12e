import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { get, query } from '../api';
import { ProblemAlert } from '../components';
import { plural, reasonLabel } from '../format';
import { useDebounced, useLoad } from '../hooks';
import type { EmployeeSearchResult } from '../types';

export type FoundEmployee = EmployeeSearchResult['items'][number];

/** Characters typed before the page asks: one letter matches most of a directory. */
const MIN_SEARCH = 2;
/** The pause in typing after which the page asks (the service keeps the directory's list for a minute). */
const SEARCH_DEBOUNCE_MS = 300;
const SHOWN = 10;

/**
 * Finds employees by name, email or employee id, matched by the service ignoring case and
 * accents. Each match says which group they are in (other than `groupId`, the one being
 * edited) and a prerequisite the directory already shows failing; `action` renders what can
 * be done with them (add or move on a group's Users tab, open the why view on the Users tab).
 */
export function EmployeeSearch({
  groupId,
  version = 0,
  action,
}: {
  groupId?: string;
  /** bumped by the caller to ask again (after an add the matches' groups changed) */
  version?: number;
  action: (employee: FoundEmployee, label: string) => ComponentChildren;
}) {
  const [text, setText] = useState('');
  const settled = useDebounced(text.trim(), SEARCH_DEBOUNCE_MS);
  const found = useLoad(
    (signal) =>
      settled.length < MIN_SEARCH
        ? Promise.resolve(null)
        : get<EmployeeSearchResult>(`employees${query({ search: settled, top: SHOWN })}`, signal).then((a) => a.data),
    [settled, version],
  );
  const result = settled.length >= MIN_SEARCH ? found.data : null;
  return (
    <div class="employee-search" role="search" aria-label="Find employees">
      <label class="field field-grow">
        <span>Search employees</span>
        <input
          type="search"
          name="employeeSearch"
          placeholder="Name, email or employee ID"
          autoComplete="off"
          aria-describedby="employee-search-hint"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        <small id="employee-search-hint" class="hint">
          Matches as you type (at least {MIN_SEARCH} characters), ignoring case and accents.
        </small>
      </label>
      {settled.length >= MIN_SEARCH && <ProblemAlert error={found.error} />}
      <p class="visually-hidden" role="status">
        {result ? (result.total === 0 ? 'No employee matches.' : `${plural(result.total, 'employee')} match.`) : ''}
      </p>
      {result && result.total === 0 && <p class="empty">No employee matches “{settled}”.</p>}
      {result && result.items.length > 0 && (
        <>
          <ul class="search-results" aria-label="Matching employees">
            {result.items.map((e) => {
              const label = e.name || e.employeeId;
              return (
                <li key={e.employeeId} class="search-result" data-employee-id={e.employeeId}>
                  <div class="search-who">
                    <strong>{label}</strong> <span class="row-sub">{e.employeeId}</span>
                    <span class="row-sub">{e.email || 'No email'}</span>
                    {e.prerequisite && <span class="row-sub search-problem">{reasonLabel(e.prerequisite)}: would not be configured</span>}
                    {e.groupId && e.groupId !== groupId && <span class="row-sub">In group {e.groupName ?? e.groupId}</span>}
                  </div>
                  {action(e, label)}
                </li>
              );
            })}
          </ul>
          {result.total > result.items.length && (
            <p class="muted small">
              Showing {result.items.length} of {result.total}: type more to narrow the list.
            </p>
          )}
        </>
      )}
    </div>
  );
}
