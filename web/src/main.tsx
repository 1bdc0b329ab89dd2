// The approvals inbox: sign-in, live pending list, detail, history and audit.
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { PendingList } from './pending.js';
import { claimsOf, clientFor, devTokensEnabled, forgetToken, mintDevToken, storedToken, storeToken, type Claims } from './session.js';
import { Audit, canAudit, Detail, History } from './views.js';
import { plainError } from './words.js';
import './styles.css';

const ROLES = ['approver', 'admin', 'auditor', 'agent'];

function SignIn({ onSignedIn }: { onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [dev, setDev] = useState(false);
  const [subject, setSubject] = useState('');
  const [tenant, setTenant] = useState('default');
  const [roles, setRoles] = useState<string[]>(['approver']);
  useEffect(() => {
    void devTokensEnabled().then(setDev);
  }, []);

  async function tryToken(candidate: string) {
    setError(null);
    const trimmed = candidate.trim();
    if (!claimsOf(trimmed)) {
      setError('That is not a caller token (a JWT with a subject).');
      return;
    }
    try {
      // One cheap call proves the server accepts the token before it is kept.
      await clientFor(trimmed).approvals({ first: 1 });
      onSignedIn(trimmed);
    } catch (failure) {
      setError(plainError(failure));
    }
  }

  return (
    <main id="main" class="signin">
      <h1>Countersign approvals</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void tryToken(token);
        }}
      >
        <label for="caller-token">Caller token</label>
        <input id="caller-token" type="text" autocomplete="off" spellcheck={false} value={token} onInput={(event) => setToken(event.currentTarget.value)} />
        <p class="hint">Paste the token your identity provider (or <code>countersign token mint</code>) issued. It stays in this tab only.</p>
        <button type="submit" class="primary">Sign in</button>
      </form>
      {dev && (
        <form
          class="dev"
          onSubmit={async (event) => {
            event.preventDefault();
            try {
              await tryToken(await mintDevToken(subject.trim(), tenant.trim(), roles));
            } catch (failure) {
              setError(plainError(failure));
            }
          }}
        >
          <fieldset>
            <legend>Development: mint a token</legend>
            <label for="dev-subject">Subject</label>
            <input id="dev-subject" required value={subject} onInput={(event) => setSubject(event.currentTarget.value)} />
            <label for="dev-tenant">Tenant</label>
            <input id="dev-tenant" required value={tenant} onInput={(event) => setTenant(event.currentTarget.value)} />
            <fieldset class="roles">
              <legend>Roles</legend>
              {ROLES.map((role) => (
                <label key={role}>
                  <input
                    type="checkbox"
                    checked={roles.includes(role)}
                    onChange={(event) => setRoles(event.currentTarget.checked ? [...roles, role] : roles.filter((other) => other !== role))}
                  />{' '}
                  {role}
                </label>
              ))}
            </fieldset>
            <button type="submit">Mint and sign in</button>
          </fieldset>
        </form>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </main>
  );
}

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return hash;
}

function Inbox({ token, claims, onSignOut }: { token: string; claims: Claims; onSignOut: () => void }) {
  const client = useMemo(() => clientFor(token), [token]);
  const hash = useHash();
  const [message, setMessage] = useState('');
  const main = useRef<HTMLElement>(null);
  useEffect(() => () => void client.close(), [client]);
  useEffect(() => {
    // A new view: move focus to its heading, as a page load would.
    main.current?.querySelector<HTMLElement>('h2')?.focus();
  }, [hash]);
  const detail = /^#\/approval\/(.+)$/.exec(hash);
  const view = detail ? 'detail' : hash === '#/history' ? 'history' : hash === '#/audit' && canAudit(claims) ? 'audit' : 'pending';
  const link = (target: string, label: string, name: string) => (
    <a href={target} aria-current={view === name ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <a class="skip" href="#main" onClick={(event) => { event.preventDefault(); main.current?.focus(); }}>Skip to content</a>
      <header class="top">
        <h1>Countersign</h1>
        <nav aria-label="Views">
          {link('#/pending', 'Pending', 'pending')}
          {link('#/history', 'History', 'history')}
          {canAudit(claims) && link('#/audit', 'Audit', 'audit')}
        </nav>
        <p class="who">
          {claims.subject} <span class="roles">({claims.roles.join(', ') || 'no roles'})</span>
        </p>
        <button type="button" onClick={onSignOut}>Sign out</button>
      </header>
      <p class="announcer" role="status" aria-live="polite">{message}</p>
      <main id="main" ref={main} tabIndex={-1}>
        {view === 'pending' && <PendingList client={client} announce={setMessage} />}
        {view === 'history' && <History client={client} />}
        {view === 'audit' && <Audit client={client} />}
        {view === 'detail' && detail && <Detail client={client} claims={claims} id={decodeURIComponent(detail[1] ?? '')} announce={setMessage} />}
      </main>
    </>
  );
}

function App() {
  const [token, setToken] = useState<string | null>(storedToken());
  const claims = token ? claimsOf(token) : null;
  if (!token || !claims) {
    return (
      <SignIn
        onSignedIn={(value) => {
          storeToken(value);
          setToken(value);
        }}
      />
    );
  }
  return (
    <Inbox
      token={token}
      claims={claims}
      onSignOut={() => {
        forgetToken();
        setToken(null);
        history.replaceState(null, '', location.pathname);
      }}
    />
  );
}

/**
 * Notifications link to `/?approval=<id>` (a query survives mail and chat clients that drop
 * fragments); the inbox routes by fragment, so the link becomes that item's detail view, kept
 * through sign-in because the fragment never reaches the sign-in form.
 */
function openLinkedApproval(): void {
  const linked = new URLSearchParams(location.search).get('approval');
  if (linked) history.replaceState(null, '', `${location.pathname}#/approval/${encodeURIComponent(linked)}`);
}

openLinkedApproval();
render(<App />, document.getElementById('app') as HTMLElement);
