// Shared helpers for the browser tests.
import { test as base, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { repoDir } from './stack';

export const test = base;
export { expect };

/** docs/console/<name>.png in the repository. */
export function docShot(name: string): string {
  const dir = path.join(repoDir, 'docs', 'console');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

interface DemoUser {
  id: string;
  label: string;
  role: string;
  communeCode?: string;
  provinceCode?: string;
  agency?: string;
}

/** The stack's demo users (GET /v1/session/options). */
export async function demoUsers(page: Page): Promise<DemoUser[]> {
  const r = await page.request.get('/v1/session/options');
  expect(r.ok()).toBeTruthy();
  return ((await r.json()) as { demoUsers: DemoUser[] }).demoUsers;
}

/**
 * Signs in through the sign-in page as the first demo user of `role`
 * (optionally the one whose id or label contains `match`); returns that user.
 */
export async function signIn(page: Page, role: string, match?: string): Promise<DemoUser> {
  const users = (await demoUsers(page)).filter((u) => u.role === role && (!match || u.id.includes(match) || u.label.includes(match)));
  const user = users[0];
  if (!user) throw new Error(`no demo user with role ${role}${match ? ` matching ${match}` : ''}`);
  await page.goto('/#/signin');
  await page.locator(`[data-user="${user.id}"]`).click();
  await page.waitForURL((u) => !u.hash.startsWith('#/signin'));
  await expect(page.getByTestId('who')).toBeVisible();
  return user;
}

/** A signed-in API call from the page's own cookies (with the session's CSRF token for writes). */
export async function api(page: Page, method: 'GET' | 'POST', url: string, data?: unknown): Promise<{ status: number; body: any }> {
  let headers: Record<string, string> = {};
  if (method !== 'GET') {
    const s = await page.request.get('/v1/session');
    const csrf = ((await s.json()) as { session?: { csrfToken?: string } }).session?.csrfToken ?? '';
    headers = { 'X-CSRF-Token': csrf };
  }
  const r = method === 'GET' ? await page.request.get(url) : await page.request.post(url, { data, headers });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status(), body };
}

/** The dev stack's sample dossiers ({birth, death}: submit requests naming people the agencies know). */
export async function samples(page: Page): Promise<{ birth: any; death: any }> {
  const r = await page.request.get('/console/dev-samples');
  expect(r.ok()).toBeTruthy();
  return (await r.json()) as { birth: any; death: any };
}

/** Runs axe-core; fails on any serious or critical violation, listing them. */
export async function checkA11y(page: Page, what: string): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join('\n  ')}`).join('\n');
  expect(bad, `${what}: axe found\n${report}`).toEqual([]);
}

/** Waits until the dossier's registration step is approved (the mock agencies decide in about a second). */
export async function waitForStep(page: Page, code: string, kind: string, status = 'STEP_STATUS_APPROVED', timeoutMs = 30_000): Promise<void> {
  await expect
    .poll(
      async () => {
        const r = await api(page, 'GET', `/v1/dossiers/${code}?view=DOSSIER_VIEW_STATUS`);
        return (r.body?.dossier?.steps ?? []).find((s: { kind: string }) => s.kind === kind)?.status;
      },
      { timeout: timeoutMs, intervals: [500] },
    )
    .toBe(status);
}
