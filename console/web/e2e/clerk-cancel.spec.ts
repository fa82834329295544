// A clerk cancels a dossier with a reason (a confirm dialog); a missing reason
// is shown beside its field. Justice decides by hand meanwhile, so the
// dossier stays open long enough.
import { api, checkA11y, expect, samples, signIn, test } from './fixtures';

test('cancel a dossier: the reason is required, then it is cancelled', async ({ page, browser }) => {
  const adminCtx = await browser.newContext();
  const admin = await adminCtx.newPage();
  await signIn(admin, 'admin');
  const manual = await api(admin, 'POST', '/v1/operations/agencies/justice/mode', { mode: 'AGENCY_MODE_MANUAL' });
  expect(manual.status, JSON.stringify(manual.body)).toBe(200);
  try {
    await signIn(page, 'clerk', 'badinh');
    const sample = (await samples(page)).birth;
    const sub = await api(page, 'POST', '/v1/dossiers/birth', { ...sample, requestId: `e2e-cancel-${Date.now()}` });
    expect(sub.status, JSON.stringify(sub.body)).toBe(200);
    const code: string = sub.body.code;

    await page.goto(`/#/clerk/dossiers/${code}`);
    const reg = page.getByTestId('steps').locator('tr[data-step="STEP_KIND_BIRTH_REGISTRATION"]');
    await expect(reg).toHaveAttribute('data-status', 'STEP_STATUS_AWAITING_AGENCY');

    await page.getByRole('button', { name: 'Hủy hồ sơ' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog).toBeVisible();
    await checkA11y(page, 'cancel dialog');
    await dialog.getByRole('button', { name: 'Hủy hồ sơ' }).click();
    await expect(dialog.locator('#f-reason')).toHaveAttribute('aria-invalid', 'true');
    await expect(dialog.locator('#f-reason-error')).not.toBeEmpty();

    await dialog.getByLabel('Lý do hủy').fill('Người dân rút hồ sơ');
    await dialog.getByRole('button', { name: 'Hủy hồ sơ' }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByRole('status').filter({ hasText: 'Đã hủy hồ sơ' })).toBeVisible();
    await expect(page.locator('main .badge').first()).toHaveText('Đã hủy', { timeout: 5000 });
    await expect(page.getByRole('button', { name: 'Hủy hồ sơ' })).toBeHidden();
  } finally {
    await api(admin, 'POST', '/v1/operations/agencies/justice/mode', { mode: 'AGENCY_MODE_AUTO' });
    await adminCtx.close();
  }
});
