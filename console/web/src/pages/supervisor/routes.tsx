// The supervisor's pages: the dashboard, stuck dossiers (with the batch retry) and a dossier's trace.
import type { NavItem, RouteDef } from '../../route-types';
import { Apologies } from './Apologies';
import { Dashboard } from './Dashboard';
import { Stuck } from './Stuck';
import { Trace } from './Trace';
import './pages.css';

export const routes: RouteDef[] = [
  { pattern: '/supervisor', roles: ['supervisor'], render: () => <Dashboard /> },
  { pattern: '/supervisor/stuck', roles: ['supervisor'], render: () => <Stuck /> },
  { pattern: '/supervisor/apologies', roles: ['supervisor'], render: () => <Apologies /> },
  { pattern: '/supervisor/dossiers/:code', roles: ['supervisor'], render: (p) => <Trace code={p.code!} /> },
];
export const nav: NavItem[] = [
  { path: '/supervisor', label: 'nav_supervisor', roles: ['supervisor'] },
  { path: '/supervisor/stuck', label: 'nav_supervisorStuck', roles: ['supervisor'] },
  { path: '/supervisor/apologies', label: 'nav_supervisorApologies', roles: ['supervisor'] },
];
