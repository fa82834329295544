import type { ComponentChildren } from 'preact';
import { fmt, formatDateTime, useLang, useT } from '../i18n';
import { label } from '../i18n/labels';
import { useLocation } from '../router';
import { nav } from '../routes';
import { useSession, type Role } from '../session';

/** The page frame: header (product, navigation, who is signed in, language, sign-out) and main. */
export function Layout({ children }: { children: ComponentChildren }) {
  const t = useT();
  const { lang, setLang } = useLang();
  const { session, signOut, renewal, signInAgain } = useSession();
  const loc = useLocation();
  const role = session?.role as Role | undefined;
  const items = role ? nav.filter((n) => n.roles.includes(role) || role === 'admin') : [];
  // The longest nav path that the current page is under is the current one.
  const currentNav = items
    .map((n) => n.path)
    .filter((p) => loc.path === p || loc.path.startsWith(`${p}/`))
    .sort((a, b) => b.length - a.length)[0];
  const place = session?.communeCode || session?.provinceCode || (session?.agency ? label(t, 'agency', session.agency) : '');

  return (
    <>
      <a class="skip-link" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        {t.skipToContent}
      </a>
      <header class="site-header no-print">
        <div class="header-row">
          <a class="brand" href="#/">
            <span class="brand-name">{t.product}</span>
            <span class="brand-tagline">{t.productTagline}</span>
          </a>
          <div class="header-tools">
            {session && (
              <p class="who" data-testid="who">
                <span class="visually-hidden">{t.signedInAs}: </span>
                <strong>{session.displayName || session.subject}</strong>
                <span class="role">
                  {label(t, 'role', session.role)}
                  {place ? ` · ${place}` : ''}
                </span>
              </p>
            )}
            <div class="lang-switch" role="group" aria-label={t.language}>
              <button type="button" aria-pressed={lang === 'vi'} onClick={() => setLang('vi')} lang="vi">
                VI<span class="visually-hidden"> {t.langVi}</span>
              </button>
              <button type="button" aria-pressed={lang === 'en'} onClick={() => setLang('en')} lang="en">
                EN<span class="visually-hidden"> {t.langEn}</span>
              </button>
            </div>
            {session ? (
              <button type="button" class="secondary" data-testid="sign-out" onClick={() => void signOut()}>
                {t.signOut}
              </button>
            ) : (
              loc.path !== '/signin' && (
                <a class="button secondary" href="#/signin">
                  {t.signIn}
                </a>
              )
            )}
          </div>
        </div>
        {items.length > 0 && (
          <nav aria-label={t.mainNav} class="main-nav">
            <ul>
              {items.map((n) => {
                const current = n.path === currentNav;
                return (
                  <li key={n.path}>
                    <a href={`#${n.path}`} aria-current={current ? 'page' : undefined}>
                      {t[n.label]}
                    </a>
                  </li>
                );
              })}
            </ul>
          </nav>
        )}
      </header>
      {session && renewal !== 'ok' && (
        <div role="alert" class={`alert ${renewal === 'expired' ? 'alert-error' : 'alert-warn'} renewal no-print`} data-testid="renewal">
          <p>{renewal === 'expired' ? t.renewExpired : fmt(t.renewFailed, { time: formatDateTime(lang, session.expiresAt) })}</p>
          <p>
            <button type="button" onClick={signInAgain}>
              {t.signInAgain}
            </button>
          </p>
        </div>
      )}
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
