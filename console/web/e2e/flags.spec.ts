// What is accepted but must not go unnoticed: a death registered after its
// 15 days is flagged on the clerk's dossier page, and a missing holiday file
// for the coming year is a warning on the supervisor's dashboard.
import { api, checkA11y, expect, samples, signIn, test } from './fixtures';

test('a death registered 20 days late is flagged on the dossier page', async ({ page }) => {
  await signIn(page, 'clerk', 'badinh');
  const req = (await samples(page)).death;
  req.requestId = `e2e-late-${Date.now()}`;
  req.form.deceased.deathTime = new Date(Date.now() - 20 * 86400_000).toISOString();
  const r = await api(page, 'POST', '/v1/dossiers/death', req);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  await page.goto(`/#/clerk/dossiers/${encodeURIComponent(r.body.code)}`);
  const flag = page.getByTestId('late-registrations');
  await expect(flag).toContainText('Khai tử sau 20 ngày');
  await expect(flag).toContainText('quá thời hạn 15 ngày (5 ngày)');
  await checkA11y(page, 'dossier page with a late registration');
});

test('the dashboard shows the calendar warnings the statistics carry', async ({ page }) => {
  await signIn(page, 'supervisor', 'national');
  const stats = await api(page, 'GET', '/v1/supervisor/statistics');
  expect(stats.status).toBe(200);
  const warnings: { year: number }[] = stats.body.calendarWarnings ?? [];
  await page.goto('/#/supervisor');
  await expect(page.locator('h1')).toBeVisible();
  const shown = page.getByTestId('calendar-warning');
  await expect(shown).toHaveCount(warnings.length);
  for (const [i, w] of warnings.entries()) await expect(shown.nth(i)).toContainText(`năm ${w.year}`);
});
