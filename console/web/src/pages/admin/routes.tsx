// The admin's pages: operations (the agencies' modes and outages).
import type { NavItem, RouteDef } from '../../route-types';
import { Operations } from './Operations';
import '../supervisor/pages.css';

export const routes: RouteDef[] = [{ pattern: '/admin', roles: ['admin'], render: () => <Operations /> }];
export const nav: NavItem[] = [{ path: '/admin', label: 'nav_admin', roles: ['admin'] }];
