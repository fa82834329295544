import type { RouteDef } from '../../route-types';
import { Lookup } from './Lookup';
import { Verify } from './Verify';

export const routes: RouteDef[] = [
  { pattern: '/lookup', render: (_p, loc) => <Lookup initialCode={loc.query.get('code') ?? undefined} /> },
  { pattern: '/verify', render: (_p, loc) => <Verify x={loc.query.get('x') ?? undefined} /> },
];
