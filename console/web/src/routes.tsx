// Every page of the console. Each role's pages declare their routes and nav
// items in their own folder (pages/<role>/routes.tsx); this file only joins them.
import type { NavItem, RouteDef } from './route-types';
import * as clerk from './pages/clerk/routes';
import * as citizen from './pages/citizen/routes';
import * as desk from './pages/desk/routes';
import * as supervisor from './pages/supervisor/routes';
import * as admin from './pages/admin/routes';
import { SignIn } from './pages/SignIn';
import { SignInDone } from './pages/SignInDone';
import { Home } from './pages/Home';

export const routes: RouteDef[] = [
  { pattern: '/', render: () => <Home /> },
  {
    pattern: '/signin',
    render: (_p, loc) => {
      const error = loc.query.get('error');
      const failure = error
        ? { error, claim: loc.query.get('claim') ?? undefined, need: loc.query.get('need') ?? undefined, reason: loc.query.get('reason') ?? undefined }
        : undefined;
      return <SignIn next={loc.query.get('next') ?? undefined} failure={failure} />;
    },
  },
  { pattern: '/signin-done', render: () => <SignInDone /> },
  ...citizen.routes,
  ...clerk.routes,
  ...desk.routes,
  ...supervisor.routes,
  ...admin.routes,
];

export const nav: NavItem[] = [...clerk.nav, ...desk.nav, ...supervisor.nav, ...admin.nav];
