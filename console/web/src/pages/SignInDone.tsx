import { useEffect } from 'preact/hooks';
import { useT } from '../i18n';
import { SESSION_CHANNEL } from '../session';

/**
 * Where the small sign-in window lands after signing in again: it tells the
 * page that opened it (which then reads the new session, keeping what was
 * typed there) and closes.
 */
export function SignInDone() {
  const t = useT();
  useEffect(() => {
    if (typeof BroadcastChannel !== 'undefined') {
      const channel = new BroadcastChannel(SESSION_CHANNEL);
      channel.postMessage('signed-in');
      channel.close();
    }
    if (window.opener) window.close();
  }, []);
  return (
    <section>
      <h1>{t.signInDoneTitle}</h1>
      <p role="status">{t.signInDoneBody}</p>
      <p>
        <a href="#/">{t.home}</a>
      </p>
    </section>
  );
}
