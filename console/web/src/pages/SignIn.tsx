import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, client, type DemoUser } from '../api/client';
import { fmt, useT } from '../i18n';
import { label } from '../i18n/labels';
import { navigate } from '../router';
import { homeFor, useSession } from '../session';

const ROLE_ORDER = ['clerk', 'officer', 'supervisor', 'admin'];

/** The sign-in page: the demo users (dev), grouped by role; or the identity provider. */
export function SignIn({ next }: { next?: string | undefined }) {
  const t = useT();
  const { signIn } = useSession();
  const [users, setUsers] = useState<DemoUser[] | undefined>(undefined);
  const [idp, setIdp] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState('');

  useEffect(() => {
    call((signal) => client.GET('/v1/session/options', { signal }))
      .then((res) => {
        setUsers(res.demoUsers ?? []);
        setIdp(res.identityProviderUrl ?? '');
      })
      .catch((e: unknown) => {
        setUsers([]);
        setError(e instanceof ApiError && e.status === 0 ? t.networkError : fmt(t.signInFailed, { message: String((e as Error).message) }));
      });
  }, []);

  const choose = async (u: DemoUser) => {
    if (!u.id) return;
    setBusy(u.id);
    setError('');
    try {
      const s = await signIn(u.id);
      const target = next && next.startsWith('/') && next !== '/signin' ? next : homeFor(s.role);
      navigate(target, undefined, { replace: true });
    } catch (e) {
      setError(fmt(t.signInFailed, { message: (e as Error).message }));
    } finally {
      setBusy('');
    }
  };

  const rank = (r: string) => (ROLE_ORDER.includes(r) ? ROLE_ORDER.indexOf(r) : ROLE_ORDER.length);
  const roles = [...new Set((users ?? []).map((u) => u.role ?? ''))].sort((a, b) => rank(a) - rank(b));

  return (
    <section class="signin">
      <h1>{t.signInTitle}</h1>
      {error && (
        <p role="alert" class="alert alert-error">
          {error}
        </p>
      )}
      {users === undefined && <p aria-live="polite">{t.loading}</p>}
      {users !== undefined && users.length === 0 && !idp && !error && <p>{t.signInNoDemo}</p>}
      {idp && (
        <p>
          <a class="button" href={idp}>
            {t.signInIdp}
          </a>
        </p>
      )}
      {users && users.length > 0 && <p>{t.signInIntro}</p>}
      <div class="signin-roles">
        {roles.map((role) => (
          <section key={role} class="card" aria-labelledby={`role-${role}`}>
            <h2 id={`role-${role}`}>{label(t, 'role', role)}</h2>
            <ul class="plain">
              {(users ?? [])
                .filter((u) => (u.role ?? '') === role)
                .map((u) => (
                  <li key={u.id}>
                    <button type="button" class="link-button" data-user={u.id} disabled={busy !== ''} onClick={() => void choose(u)}>
                      {u.label || u.id}
                    </button>
                  </li>
                ))}
            </ul>
          </section>
        ))}
      </div>
      <section class="card citizen-links" aria-labelledby="citizen-links">
        <h2 id="citizen-links">{t.citizenLinks}</h2>
        <ul class="plain">
          <li>
            <a href="#/lookup">{t.lookupLink}</a>
          </li>
          <li>
            <a href="#/verify">{t.verifyLink}</a>
          </li>
        </ul>
      </section>
    </section>
  );
}
