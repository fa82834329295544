// The agency officer's desk: the agency's queue and one case.
import type { NavItem, RouteDef } from '../../route-types';
import { CaseList } from './CaseList';
import { CasePage } from './CasePage';
import '../supervisor/pages.css';

export const routes: RouteDef[] = [
  { pattern: '/desk', roles: ['officer'], render: (_p, loc) => <CaseList loc={loc} /> },
  {
    pattern: '/desk/cases/:caseId',
    roles: ['officer'],
    render: (p, loc) => <CasePage caseId={p.caseId!} backQuery={{ agency: loc.query.get('agency') ?? undefined }} />,
  },
];
export const nav: NavItem[] = [{ path: '/desk', label: 'nav_desk', roles: ['officer'] }];
