import type { VNode } from 'preact';
import type { Location } from './router';
import type { Role } from './session';
import type { Dict } from './i18n/vi';

export interface RouteDef {
  /** e.g. '/clerk/dossiers/:code' (see router.match). */
  pattern: string;
  /** Who may open it; absent means anyone, signed in or not. Admin may open every page. */
  roles?: Role[];
  render: (params: Record<string, string>, loc: Location) => VNode;
}

export interface NavItem {
  /** The hash path it links to. */
  path: string;
  /** A key of the core dictionary (src/i18n/vi.ts). */
  label: keyof Dict;
  roles: Role[];
}
