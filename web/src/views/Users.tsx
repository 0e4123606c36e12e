import { useState } from 'preact/hooks';
import { EmployeeSearch } from './EmployeeSearch';
import { WhyView } from './WhyView';

/** Any employee's why view, by employee id (#/users/E0010) or found by search. */
export function Users({ employeeId }: { employeeId: string | null }) {
  const [text, setText] = useState(employeeId ?? '');
  return (
    <>
      <div class="page-head">
        <h1>Users</h1>
      </div>
      <section class="card">
        <form
          class="toolbar"
          role="search"
          aria-label="Find a user"
          onSubmit={(e) => {
            e.preventDefault();
            const id = text.trim();
            if (id) window.location.hash = `#/users/${encodeURIComponent(id)}`;
          }}
        >
          <label class="field field-inline">
            <span>Employee ID</span>
            <input name="employeeId" placeholder="e.g. E0010" required value={text} onInput={(e) => setText(e.currentTarget.value)} />
          </label>
          <button type="submit" class="btn btn-primary">
            Show
          </button>
        </form>
        <EmployeeSearch
          action={(e, label) => (
            <a class="btn btn-secondary btn-small" href={`#/users/${encodeURIComponent(e.employeeId)}`} aria-label={`Show ${label}`}>
              Show
            </a>
          )}
        />
        <p class="muted">Why is (or isn't) this person syncing: every check in order, their subscriptions, errors and next retry.</p>
      </section>
      {employeeId && (
        <section class="card" aria-labelledby="user-h">
          <h2 id="user-h">{employeeId}</h2>
          <WhyView employeeId={employeeId} />
        </section>
      )}
    </>
  );
}
