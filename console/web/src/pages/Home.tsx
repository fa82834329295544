import { useEffect } from 'preact/hooks';
import { navigate } from '../router';
import { homeFor, useSession } from '../session';
import { useT } from '../i18n';

/** "#/": sends each person to their role's home, or to sign-in. */
export function Home() {
  const { session } = useSession();
  const t = useT();
  useEffect(() => {
    if (session === undefined) return;
    navigate(homeFor(session?.role), undefined, { replace: true });
  }, [session]);
  return <p aria-live="polite">{t.loading}</p>;
}
