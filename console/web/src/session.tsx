// Who is signed in: GET /v1/session on start; sign-in and sign-out; the
// silent renewal of a session signed in through the identity provider.
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, client, setCsrfToken, setUnauthorizedHandler, type Session } from './api/client';
import { navigate, useLocation } from './router';

export type Role = 'clerk' | 'officer' | 'supervisor' | 'admin';

/**
 * How a renewable session stands: `ok`; `failed`, the provider would not
 * renew it and it ends at expiresAt; `expired`, it has ended. The page stays
 * as it is in the last two, so nothing typed is lost while the person signs
 * in again.
 */
export type Renewal = 'ok' | 'failed' | 'expired';

interface SessionState {
  /** undefined while loading, null when signed out. */
  session: Session | null | undefined;
  renewal: Renewal;
  signIn: (demoUserId: string) => Promise<Session>;
  /** Ends the session here and, where the provider offers it, there too; then goes to sign-in. */
  signOut: () => Promise<void>;
  refresh: () => Promise<void>;
  /** Signs in through the provider again in a small window, keeping this page; a full redirect if windows are blocked. */
  signInAgain: () => void;
}

const SessionContext = createContext<SessionState>({
  session: undefined,
  renewal: 'ok',
  signIn: () => Promise.reject(new Error('no session provider')),
  signOut: () => Promise.resolve(),
  refresh: () => Promise.resolve(),
  signInAgain: () => {},
});

// The last session is kept so that a page reloaded while offline still knows
// who is signed in (drafts and the outbox keep working); the server's answer
// replaces it as soon as there is one.
const KEY = 'lienthong.session.v1';

function remember(s: Session | null): void {
  try {
    if (s) localStorage.setItem(KEY, JSON.stringify(s));
    else localStorage.removeItem(KEY);
  } catch {
    /* private mode */
  }
}

function remembered(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Session | null;
    if (s?.expiresAt && new Date(s.expiresAt).getTime() < Date.now()) return null;
    return s;
  } catch {
    return null;
  }
}

function adopt(s: Session | undefined | null): Session | null {
  setCsrfToken(s?.csrfToken ?? '');
  remember(s ?? null);
  return s ?? null;
}

/** The channel a sign-in finished in another window announces itself on. */
export const SESSION_CHANNEL = 'lienthong-session';

/** Where sign-in through the identity provider starts. */
export const OIDC_START = '/v1/session/oidc/start';

/**
 * When to renew a session that expires at `expiresAt`: half its remaining
 * life before, and at most a minute before.
 */
export function renewDelay(expiresAt: string, now = Date.now()): number {
  const left = new Date(expiresAt).getTime() - now;
  return Math.max(left - Math.min(60_000, left / 2), 0);
}

let retryTimer: ReturnType<typeof setTimeout> | undefined;

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [renewal, setRenewal] = useState<Renewal>('ok');
  const current = useRef<Session | null | undefined>(undefined);
  current.current = session;
  const loc = useLocation();
  const path = useRef('/');
  path.current = loc.path + (loc.query.toString() ? `?${loc.query.toString()}` : '');

  const refresh = useCallback(async () => {
    try {
      const res = await call((signal) => client.GET('/v1/session', { signal }), { keepSessionOn401: true });
      setSession(adopt(res.session));
      setRenewal('ok');
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403 || e.status === 404)) {
        if (current.current?.refreshable) {
          // A renewable session that ended: keep the page, ask to sign in again.
          setRenewal('expired');
          return;
        }
        setSession(adopt(null));
        return;
      }
      // No answer: carry on as the remembered person and ask again soon.
      const last = remembered();
      setCsrfToken(last?.csrfToken ?? '');
      setSession((prev) => (prev === undefined ? last : prev));
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => void refresh(), 5000);
    }
  }, []);

  // A 401 anywhere: a demo session is over; a renewable one has expired, and
  // the page waits for the person to sign in again.
  useEffect(() => {
    setUnauthorizedHandler(() => {
      if (current.current?.refreshable) setRenewal('expired');
      else setSession(adopt(null));
    });
    void refresh();
    const online = () => void refresh();
    window.addEventListener('online', online);
    const channel = typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel(SESSION_CHANNEL);
    if (channel) channel.onmessage = () => void refresh();
    return () => {
      window.removeEventListener('online', online);
      channel?.close();
    };
  }, [refresh]);

  // Renew before the token expires, with nothing for the person to do.
  // A provider that is briefly unreachable is asked again; one that says no
  // leaves the session to end at its time, and the page says so.
  useEffect(() => {
    if (!session?.refreshable || !session.expiresAt || renewal !== 'ok') return;
    const expiresAt = session.expiresAt;
    let timer: ReturnType<typeof setTimeout>;
    const renew = async () => {
      try {
        const res = await call((signal) => client.POST('/v1/session/refresh', { body: {}, signal }), { keepSessionOn401: true });
        setSession(adopt(res.session));
      } catch (e) {
        if (e instanceof ApiError && e.retryable && new Date(expiresAt).getTime() - Date.now() > 5_000) {
          timer = setTimeout(() => void renew(), 5_000);
          return;
        }
        setRenewal(new Date(expiresAt).getTime() <= Date.now() ? 'expired' : 'failed');
      }
    };
    timer = setTimeout(() => void renew(), renewDelay(expiresAt));
    return () => clearTimeout(timer);
  }, [session?.expiresAt, session?.refreshable, renewal]);

  // A session the provider would not renew ends at its time.
  useEffect(() => {
    if (renewal !== 'failed' || !session?.expiresAt) return;
    const t = setTimeout(() => setRenewal('expired'), Math.max(new Date(session.expiresAt).getTime() - Date.now(), 0));
    return () => clearTimeout(t);
  }, [renewal, session?.expiresAt]);

  const signIn = useCallback(async (demoUserId: string) => {
    const res = await call((signal) => client.POST('/v1/session', { body: { demoUserId }, signal }));
    const s = adopt(res.session);
    if (!s) throw new ApiError(500, 'no session in the answer');
    setSession(s);
    setRenewal('ok');
    return s;
  }, []);

  const signOut = useCallback(async () => {
    let end = '';
    try {
      const res = await call((signal) => client.POST('/v1/session/sign-out', { body: {}, signal }), { keepSessionOn401: true });
      end = res.endSessionUrl ?? '';
    } finally {
      setSession(adopt(null));
      setRenewal('ok');
    }
    // The provider ends its session too, and sends the browser back here.
    if (end) window.location.assign(end);
    else navigate('/signin');
  }, []);

  const signInAgain = useCallback(() => {
    const w = window.open(`${OIDC_START}?popup=1`, 'lienthong-signin', 'popup,width=560,height=720');
    if (!w) window.location.assign(`${OIDC_START}?next=${encodeURIComponent(path.current)}`);
  }, []);

  return (
    <SessionContext.Provider value={{ session, renewal, signIn, signOut, refresh, signInAgain }}>{children}</SessionContext.Provider>
  );
}

export function useSession(): SessionState {
  return useContext(SessionContext);
}

/** Where each role starts. */
export function homeFor(role: string | undefined): string {
  switch (role) {
    case 'clerk':
      return '/clerk';
    case 'officer':
      return '/desk';
    case 'supervisor':
      return '/supervisor';
    case 'admin':
      return '/admin';
    default:
      return '/signin';
  }
}
