// An officer claims a case and asks for a supplement; the clerk answers it;
// the officer approves; the clerk's dossier page shows the approval within
// 2 s, without a reload. Justice runs in manual mode for the test (switched
// on the admin page) and goes back to auto at the end.
import type { Browser, Page } from '@playwright/test';
import { api, checkA11y, docShot, expect, samples, signIn, test } from './fixtures';

async function newPage(browser: Browser, baseURL: string | undefined): Promise<Page> {
  const ctx = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  return ctx.newPage();
}

async function setMode(admin: Page, agency: string, mode: 'auto' | 'manual'): Promise<void> {
  await admin.goto('/#/admin');
  const button = admin.getByTestId(`mode-${agency}-${mode}`);
  await expect(button).toBeVisible();
  if ((await button.getAttribute('aria-pressed')) !== 'true') await button.click();
  await expect(button).toHaveAttribute('aria-pressed', 'true');
}

test('desk: claim, ask for a supplement, clerk answers, approve; the clerk sees it within 2 s', async ({ page, browser, baseURL }) => {
  test.setTimeout(120_000);
  const admin = await newPage(browser, baseURL);
  const clerk = await newPage(browser, baseURL);
  await signIn(admin, 'admin');
  await setMode(admin, 'justice', 'manual');
  await checkA11y(admin, 'admin operations');
  try {
    // The clerk submits a birth dossier and keeps its page open.
    await signIn(clerk, 'clerk', 'badinh');
    const { birth } = await samples(clerk);
    const sub = await api(clerk, 'POST', '/v1/dossiers/birth', { ...birth, requestId: `e2e-desk-${Date.now()}` });
    expect(sub.status, JSON.stringify(sub.body)).toBe(200);
    const code: string = sub.body.code;
    await clerk.goto(`/#/clerk/dossiers/${code}`);
    const reg = clerk.locator('[data-testid="steps"] tr[data-step="STEP_KIND_BIRTH_REGISTRATION"]');
    await expect(reg).toBeVisible();

    // The officer finds it in the queue (which refreshes by itself).
    const officer = await signIn(page, 'officer', 'tuphap-1');
    await page.goto('/#/desk');
    await expect(page.getByTestId('desk-officer')).toContainText(officer.label);
    const row = page.locator(`[data-testid="desk-queue"] tr[data-dossier="${code}"]`);
    await expect(row).toBeVisible({ timeout: 20_000 });
    await page.screenshot({ path: docShot('desk.png') });
    await checkA11y(page, 'desk queue');
    await row.getByRole('link').first().click();
    await expect(page.getByRole('heading', { level: 1 })).toContainText('JUS-');

    // A second officer cannot take it once it is held: the refusal names the holder.
    await page.getByTestId('claim').click();
    await expect(page.getByTestId('case-holder')).toContainText(officer.id);
    const caseUrl = page.url();
    const other = await newPage(browser, baseURL);
    await signIn(other, 'officer', 'tuphap-2');
    await other.goto(caseUrl.slice(caseUrl.indexOf('#')));
    await expect(other.getByTestId('held-by-other')).toContainText(officer.id);
    await other.getByTestId('claim').click();
    await expect(other.getByTestId('case-status')).toContainText(officer.id);
    await other.context().close();

    // Ask for a supplement: one item picked from the list, one typed.
    await page.locator('#decision-CASE_DECISION_REQUEST_SUPPLEMENT').check();
    await page.locator('#f-reason').fill('Bản chụp giấy chứng sinh bị mờ; cần thêm giấy chứng nhận kết hôn.');
    await page.locator('#f-item-birth_certificate').check();
    await page.locator('#f-other-item').fill('marriage_certificate');
    await page.getByRole('button', { name: 'Thêm', exact: true }).click();
    await expect(page.getByTestId('missing-items')).toContainText('Giấy chứng nhận kết hôn');
    await checkA11y(page, 'case page, supplement form');
    await page.getByTestId('decide-submit').click();
    await expect(page.getByTestId('case-status')).toContainText('Yêu cầu bổ sung');
    await expect(page.getByTestId('case-state')).toHaveText('Chờ bổ sung');

    // The clerk's page shows the request without a reload, and the clerk answers it.
    await expect(reg).toHaveAttribute('data-status', 'STEP_STATUS_NEEDS_SUPPLEMENT', { timeout: 10_000 });
    await clerk.locator('#f-supp-birth_certificate').fill('CS-00004-000019 (bản rõ)');
    await clerk.locator('#f-supp-marriage_certificate').fill('KH-00004-2024-0117');
    await clerk.getByRole('button', { name: 'Gửi bổ sung' }).click();
    await expect(reg).not.toHaveAttribute('data-status', 'STEP_STATUS_NEEDS_SUPPLEMENT', { timeout: 10_000 });

    // The officer's case page follows the case: back in the queue; approve it.
    await expect(page.getByTestId('case-state')).not.toHaveText('Chờ bổ sung', { timeout: 10_000 });
    if (await page.getByTestId('claim').isVisible()) await page.getByTestId('claim').click();
    await page.locator('#decision-CASE_DECISION_APPROVE').check();
    await page.getByTestId('decide-submit').click();
    await expect(page.getByTestId('case-status')).toContainText('Phê duyệt');
    const decidedAt = Date.now();

    // The clerk's page shows the approval within 2 s, without a reload.
    await expect(reg).toHaveAttribute('data-status', 'STEP_STATUS_APPROVED', { timeout: 2_000 });
    expect(Date.now() - decidedAt).toBeLessThanOrEqual(2_000);
  } finally {
    await setMode(admin, 'justice', 'auto');
    await admin.context().close();
    await clerk.context().close();
  }
});
