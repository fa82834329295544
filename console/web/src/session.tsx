// Who is signed in: GET /v1/session on start; sign-in and sign-out.
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { ApiError, call, client, setCsrfToken, setUnauthorizedHandler, type Session } from './api/client';

export type Role = 'clerk' | 'officer' | 'supervisor' | 'admin';

interface SessionState {
  /** undefined while loading, null when signed out. */
  session: Session | null | undefined;
  signIn: (demoUserId: string) => Promise<Session>;
  signOut: () => Promise<void>;
  refresh: () => Promise<void>;
}

const SessionContext = createContext<SessionState>({
  session: undefined,
  signIn: () => Promise.reject(new Error('no session provider')),
  signOut: () => Promise.resolve(),
  refresh: () => Promise.resolve(),
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

let retryTimer: ReturnType<typeof setTimeout> | undefined;

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [session, setSession] = useState<Session | null | undefined>(undefined);

  const refresh = useCallback(async () => {
    try {
      const res = await call((signal) => client.GET('/v1/session', { signal }));
      setSession(adopt(res.session));
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403 || e.status === 404)) {
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

  useEffect(() => {
    setUnauthorizedHandler(() => setSession(adopt(null)));
    void refresh();
    const online = () => void refresh();
    window.addEventListener('online', online);
    return () => window.removeEventListener('online', online);
  }, [refresh]);

  const signIn = useCallback(async (demoUserId: string) => {
    const res = await call((signal) => client.POST('/v1/session', { body: { demoUserId }, signal }));
    const s = adopt(res.session);
    if (!s) throw new ApiError(500, 'no session in the answer');
    setSession(s);
    return s;
  }, []);

  const signOut = useCallback(async () => {
    try {
      await call((signal) => client.POST('/v1/session/sign-out', { body: {}, signal }));
    } finally {
      setSession(adopt(null));
    }
  }, []);

  return <SessionContext.Provider value={{ session, signIn, signOut, refresh }}>{children}</SessionContext.Provider>;
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
