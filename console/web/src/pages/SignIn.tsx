import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, client, type DemoUser } from '../api/client';
import { fmt, useT } from '../i18n';
import type { Dict } from '../i18n/vi';
import { label } from '../i18n/labels';
import { navigate } from '../router';
import { homeFor, useSession } from '../session';

const ROLE_ORDER = ['clerk', 'officer', 'supervisor', 'admin'];

/** What a failed sign-in through the provider says, from the codes the API's callback sends back. */
export interface SignInFailure {
  error: string;
  claim?: string | undefined;
  need?: string | undefined;
  reason?: string | undefined;
}

function failureText(t: Dict, f: SignInFailure, provider: string): string {
  switch (f.error) {
    case 'claim': {
      const needKey = `need_${f.need ?? ''}` as keyof Dict;
      return fmt(t.signInErrorClaim, { provider, claim: f.claim ?? '?', need: needKey in t ? t[needKey] : (f.need ?? '?') });
    }
    case 'state':
      return t.signInErrorState;
    case 'provider':
      return f.reason === 'access_denied' ? fmt(t.signInErrorDenied, { provider }) : fmt(t.signInErrorProvider, { provider, reason: f.reason ?? '?' });
    case 'exchange':
      return fmt(t.signInErrorExchange, { provider });
    case 'token':
      return fmt(t.signInErrorToken, { provider });
    case 'unavailable':
      return fmt(t.signInErrorUnavailable, { provider });
    default:
      return t.signInErrorInternal;
  }
}

/** The sign-in page: the identity provider when there is one, and the demo users (dev), grouped by role. */
export function SignIn({ next, failure }: { next?: string | undefined; failure?: SignInFailure | undefined }) {
  const t = useT();
  const { signIn } = useSession();
  const [users, setUsers] = useState<DemoUser[] | undefined>(undefined);
  const [idp, setIdp] = useState('');
  const [idpName, setIdpName] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState('');

  useEffect(() => {
    call((signal) => client.GET('/v1/session/options', { signal }))
      .then((res) => {
        setUsers(res.demoUsers ?? []);
        setIdp(res.identityProviderUrl ?? '');
        setIdpName(res.identityProviderName ?? '');
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

  const target = next && next.startsWith('/') && next !== '/signin' ? next : '';
  const idpHref = idp && (target ? `${idp}?next=${encodeURIComponent(target)}` : idp);

  const rank = (r: string) => (ROLE_ORDER.includes(r) ? ROLE_ORDER.indexOf(r) : ROLE_ORDER.length);
  const roles = [...new Set((users ?? []).map((u) => u.role ?? ''))].sort((a, b) => rank(a) - rank(b));

  return (
    <section class="signin">
      <h1>{t.signInTitle}</h1>
      {failure && (
        <div role="alert" class="alert alert-error" data-testid="signin-failure">
          <p>
            <strong>{t.signInFailedTitle}</strong>
          </p>
          <p>{failureText(t, failure, idpName || t.signInTitle)}</p>
        </div>
      )}
      {error && (
        <p role="alert" class="alert alert-error">
          {error}
        </p>
      )}
      {users === undefined && <p aria-live="polite">{t.loading}</p>}
      {users !== undefined && users.length === 0 && !idp && !error && <p>{t.signInNoDemo}</p>}
      {idp && (
        <p>
          <a class="button signin-idp" href={idpHref} data-testid="signin-idp">
            {fmt(t.signInIdp, { name: idpName })}
          </a>
        </p>
      )}
      {users && users.length > 0 && <p>{idp ? t.signInIdpDemo : t.signInIntro}</p>}
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
