import { useState } from 'preact/hooks';
import { signIn, type Session } from '../api';
import { ProblemAlert } from '../components';

/** Sign-in with the administrator's Vantagepoint user name and password (POST /api/session). */
export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await signIn(username, password);
      setPassword('');
      onSignedIn(session);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="signin" id="main">
      <div class="signin-card">
        <div class="brand brand-large">
          <span class="brand-mark" aria-hidden="true" />
          <span>Connect Administration</span>
        </div>
        <h1>Sign in</h1>
        <p class="muted">Use your Vantagepoint user name and password. Your role must grant Connect Administration.</p>
        {notice && (
          <div class="alert alert-info" role="status">
            <div class="alert-body">{notice}</div>
          </div>
        )}
        <ProblemAlert error={error} />
        <form onSubmit={submit} class="form">
          <label class="field">
            <span>User name</span>
            <input name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
          </label>
          <label class="field">
            <span>Password</span>
            <input name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          </label>
          <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
