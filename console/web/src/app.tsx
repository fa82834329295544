import { useEffect, useRef } from 'preact/hooks';
import { LangProvider, useT } from './i18n';
import { Layout } from './components/Layout';
import { match, navigate, useLocation } from './router';
import { routes } from './routes';
import { SessionProvider, useSession, type Role } from './session';
import { Forbidden, NotFound } from './pages/NotFound';
import { OutboxRunner } from './pages/clerk/sender';

function Page() {
  const loc = useLocation();
  const { session } = useSession();
  const t = useT();
  const main = useRef<string>('');

  // Move focus to the page's heading area after a route change, for keyboard and screen-reader users.
  useEffect(() => {
    if (main.current && main.current !== loc.path) {
      document.getElementById('main')?.focus({ preventScroll: false });
      window.scrollTo(0, 0);
    }
    main.current = loc.path;
  }, [loc.path]);

  for (const r of routes) {
    const params = match(r.pattern, loc.path);
    if (!params) continue;
    if (r.roles) {
      if (session === undefined) return <p aria-live="polite">{t.loading}</p>;
      if (session === null) {
        navigate('/signin', { next: loc.path + (loc.query.toString() ? `?${loc.query.toString()}` : '') }, { replace: true });
        return <p aria-live="polite">{t.loading}</p>;
      }
      const role = session.role as Role;
      if (role !== 'admin' && !r.roles.includes(role)) return <Forbidden />;
    }
    return r.render(params, loc);
  }
  return <NotFound />;
}

export function App() {
  return (
    <LangProvider>
      <SessionProvider>
        <OutboxRunner />
        <Layout>
          <Page />
        </Layout>
      </SessionProvider>
    </LangProvider>
  );
}
