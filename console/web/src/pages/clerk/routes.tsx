import type { NavItem, RouteDef } from '../../route-types';
import { Apology } from './Apology';
import { ClerkHome } from './ClerkHome';
import { DossierPage } from './DossierPage';
import { Intake } from './Intake';
import { NewDossier } from './NewDossier';
import { OutboxPage } from './Outbox';
import { Results } from './Results';
import { Slip } from './Slip';

export const routes: RouteDef[] = [
  { pattern: '/clerk', roles: ['clerk'], render: () => <ClerkHome /> },
  { pattern: '/clerk/new', roles: ['clerk'], render: () => <NewDossier /> },
  { pattern: '/clerk/new/birth', roles: ['clerk'], render: (_p, loc) => <Intake group="birth" draftId={loc.query.get('draft') ?? undefined} /> },
  { pattern: '/clerk/new/death', roles: ['clerk'], render: (_p, loc) => <Intake group="death" draftId={loc.query.get('draft') ?? undefined} /> },
  { pattern: '/clerk/outbox', roles: ['clerk'], render: () => <OutboxPage /> },
  { pattern: '/clerk/dossiers/:code', roles: ['clerk'], render: (p) => <DossierPage code={p.code!} /> },
  { pattern: '/clerk/dossiers/:code/slip', roles: ['clerk'], render: (p) => <Slip code={p.code!} /> },
  { pattern: '/clerk/dossiers/:code/results', roles: ['clerk'], render: (p) => <Results code={p.code!} /> },
  { pattern: '/clerk/dossiers/:code/apology/:step', roles: ['clerk'], render: (p) => <Apology code={p.code!} step={p.step!} /> },
];

export const nav: NavItem[] = [
  { path: '/clerk', label: 'nav_clerk', roles: ['clerk'] },
  { path: '/clerk/new', label: 'nav_clerkNew', roles: ['clerk'] },
  { path: '/clerk/outbox', label: 'nav_clerkOutbox', roles: ['clerk'] },
];
