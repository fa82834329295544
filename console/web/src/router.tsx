// A small hash router: "#/clerk/dossiers/00004-261119-0001?tab=steps".
// Routes are declared in routes.tsx; each role's pages add theirs there.
import { useEffect, useState } from 'preact/hooks';

export interface Location {
  /** The path after "#", e.g. "/clerk/dossiers/00004-261119-0001". */
  path: string;
  query: URLSearchParams;
}

export function currentLocation(): Location {
  const raw = window.location.hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q >= 0 ? raw.slice(0, q) : raw;
  const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  return { path: path.startsWith('/') ? path : `/${path}`, query };
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(currentLocation);
  useEffect(() => {
    const on = () => setLoc(currentLocation());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return loc;
}

/** href('/clerk/dossiers/' + code) → "#/clerk/dossiers/…"; query values are encoded. */
export function href(path: string, query?: Record<string, string | undefined>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') qs.set(k, v);
  const s = qs.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

export function navigate(path: string, query?: Record<string, string | undefined>, opts: { replace?: boolean } = {}): void {
  const target = href(path, query);
  if (opts.replace) {
    const url = new URL(window.location.href);
    url.hash = target;
    window.history.replaceState(null, '', url);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = target;
  }
}

/**
 * match('/clerk/dossiers/:code', '/clerk/dossiers/00004-1') → {code: '00004-1'};
 * null when it does not match. A trailing '/*' matches any rest.
 */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const part = p[i]!;
    if (part === '*') return params;
    const seg = s[i];
    if (seg === undefined) return null;
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(seg);
    else if (part !== seg) return null;
  }
  return s.length === p.length ? params : null;
}
