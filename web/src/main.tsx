import './app.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { resumeSession, signOut as endSession, whenSignedOut, type Session } from './api';
import { Dashboard } from './views/Dashboard';
import { GroupPage } from './views/GroupPage';
import { Groups } from './views/Groups';
import { SettingsView } from './views/Settings';
import { SignIn } from './views/SignIn';
import { Users } from './views/Users';

/** Hash routes keep the page one static file: #/groups/sales/users and so on. */
type Route =
  | { tab: 'dashboard' }
  | { tab: 'groups' }
  | { tab: 'group'; groupId: string; sub: string }
  | { tab: 'users'; employeeId: string | null }
  | { tab: 'settings' };

function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case 'groups':
      return parts[1] ? { tab: 'group', groupId: parts[1], sub: parts[2] ?? 'users' } : { tab: 'groups' };
    case 'users':
      return { tab: 'users', employeeId: parts[1] ?? null };
    case 'settings':
      return { tab: 'settings' };
    default:
      return { tab: 'dashboard' };
  }
}

const TABS = [
  { id: 'dashboard', label: 'Dashboard', href: '#/dashboard' },
  { id: 'groups', label: 'Groups', href: '#/groups' },
  { id: 'users', label: 'Users', href: '#/users' },
  { id: 'settings', label: 'Settings', href: '#/settings' },
] as const;

const TITLES: Record<Route['tab'], string> = { dashboard: 'Dashboard', groups: 'Groups', group: 'Group', users: 'Users', settings: 'Settings' };

function App() {
  const [session, setSessionState] = useState<Session | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash));

  useEffect(() => {
    const onHash = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onHash);
    whenSignedOut((message) => {
      setNotice(message);
      setSessionState(null);
    });
    void resumeSession().then(setSessionState);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    document.title = `${TITLES[route.tab]} · Connect Administration`;
  }, [route.tab]);

  async function signOut() {
    try {
      await endSession();
      setNotice('You have signed out.');
    } catch {
      // The page forgets the session whatever the service answered.
      setNotice('You have signed out of this page. The service could not be told; the session ends when it expires.');
    }
    setSessionState(null);
  }

  if (session === undefined) {
    return (
      <p class="muted loading boot" role="status">
        Loading Connect Administration…
      </p>
    );
  }

  if (!session) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(s) => {
          setNotice(null);
          setSessionState(s);
        }}
      />
    );
  }

  const activeTab = route.tab === 'group' ? 'groups' : route.tab;
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="brand">
          <span class="brand-mark" aria-hidden="true" />
          <span>Connect Administration</span>
        </div>
        <div class="topbar-user">
          {session.username && (
            <span class="topbar-name">
              Signed in as <strong>{session.username}</strong>
            </span>
          )}
          <button type="button" class="btn btn-on-dark btn-small" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <nav class="tabs" aria-label="Connect Administration">
        <ul>
          {TABS.map((t) => (
            <li key={t.id}>
              <a href={t.href} class={activeTab === t.id ? 'tab tab-active' : 'tab'} aria-current={activeTab === t.id ? 'page' : undefined}>
                {t.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" class="content" tabIndex={-1}>
        {route.tab === 'dashboard' && <Dashboard />}
        {route.tab === 'groups' && <Groups />}
        {route.tab === 'group' && <GroupPage groupId={route.groupId} sub={route.sub} />}
        {route.tab === 'users' && <Users employeeId={route.employeeId} />}
        {route.tab === 'settings' && <SettingsView />}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
