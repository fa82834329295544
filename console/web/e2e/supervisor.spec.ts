// A Police outage (started on the admin page) leaves birth dossiers stuck on
// their ID-number request; the supervisor sees them on the stuck page; the
// outage ends; the supervisor batch-retries them from the page (dry run
// first, then confirm with a reason) and they complete.
import type { Browser, Page } from '@playwright/test';
import { api, checkA11y, docShot, expect, samples, signIn, test } from './fixtures';

async function newPage(browser: Browser, baseURL: string | undefined): Promise<Page> {
  const ctx = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  return ctx.newPage();
}

/** An instant as a datetime-local value in Vietnam time (UTC+7). */
function vnLocal(ms: number): string {
  return new Date(ms + 7 * 3600_000).toISOString().slice(0, 16);
}

async function confirmDialog(page: Page, reason: string): Promise<void> {
  const dialog = page.getByTestId('reason-dialog');
  await expect(dialog).toBeVisible();
  await dialog.locator('#f-reason').fill(reason);
  await dialog.locator('button[type="submit"]').click();
  await expect(dialog).toBeHidden({ timeout: 30_000 });
}

async function outage(admin: Page, agency: string, minutes: number, reason: string): Promise<void> {
  await admin.goto('/#/admin');
  if (minutes > 0) {
    await admin.locator(`#f-minutes-${agency}`).fill(String(minutes));
    await admin.getByTestId(`start-outage-${agency}`).click();
  } else {
    await admin.getByTestId(`end-outage-${agency}`).click();
  }
  await confirmDialog(admin, reason);
  if (minutes > 0) await expect(admin.getByTestId(`outage-${agency}`)).toContainText(/\d{2}:\d{2}/);
  else await expect(admin.getByTestId(`outage-${agency}`)).not.toContainText(/\d{2}:\d{2}/);
}

test('supervisor: dossiers stuck by a Police outage, batch-retried after it, complete', async ({ page, browser, baseURL }) => {
  test.setTimeout(240_000);
  const admin = await newPage(browser, baseURL);
  const clerk = await newPage(browser, baseURL);
  await signIn(admin, 'admin');
  const since = Date.now() - 60_000;
  await outage(admin, 'police', 10, 'e2e: diễn tập mất kết nối Công an');
  let ended = false;
  try {
    // A clerk submits three birth dossiers while Police is down.
    await signIn(clerk, 'clerk', 'badinh');
    const { birth } = await samples(clerk);
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await api(clerk, 'POST', '/v1/dossiers/birth', { ...birth, requestId: `e2e-outage-${Date.now()}-${i}` });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      codes.push(r.body.code);
    }

    // The supervisor's stuck list shows them (it refreshes by itself).
    await signIn(page, 'supervisor', 'national');
    await page.goto('/#/supervisor/stuck');
    for (const code of codes) {
      await expect(page.locator(`[data-testid="stuck-table"] tr[data-code="${code}"]`).first()).toBeVisible({ timeout: 90_000 });
    }
    const row = page.locator(`[data-testid="stuck-table"] tr[data-code="${codes[0]}"]`).first();
    await expect(row).toContainText('Công an');
    await expect(row).toContainText('UNAVAILABLE');
    await page.screenshot({ path: docShot('stuck.png') });
    await checkA11y(page, 'stuck dossiers');

    // Grouped by last error, they share one group, whatever each message
    // says: Police, not answering (UNAVAILABLE).
    await page.getByLabel('Nhóm theo').selectOption('error');
    const group = page.locator('section.group-section', { has: page.locator(`tr[data-code="${codes[0]}"]`) });
    await expect(group.locator('h2')).toContainText('Công an — UNAVAILABLE: Hệ thống của cơ quan tạm thời không phản hồi');
    for (const code of codes) {
      await expect(group.locator(`tr[data-code="${code}"]`)).toBeVisible();
    }
    await page.getByLabel('Nhóm theo').selectOption('rule');

    // Batch retry: every dossier stuck on Police since the outage began. The
    // dry run comes while Police is still down, so the dossiers are surely
    // stuck when it lists them; the worker wakes held steps by itself soon
    // after Police answers again.
    await page.getByTestId('batch-retry').locator('summary').click();
    await page.locator('#f-batch-agency').selectOption('police');
    await page.locator('#f-batch-step').selectOption('STEP_KIND_ID_NUMBER');
    await page.locator('#f-batch-since').fill(vnLocal(since));
    await page.getByTestId('batch-dry-run').click();
    const results = page.getByTestId('batch-results');
    await expect(page.getByTestId('batch-status')).toContainText(/Sẽ thử lại|Không có hồ sơ/);
    const previewed: string[] = [];
    if (await results.isVisible()) {
      for (const code of codes) if ((await results.locator('tr', { hasText: code }).count()) > 0) previewed.push(code);
      await expect(results).toContainText('Sẽ thử lại');
      await checkA11y(page, 'batch retry preview');

      // Police comes back, and the supervisor confirms the retry.
      await outage(admin, 'police', 0, 'e2e: Công an đã kết nối lại');
      ended = true;
      await page.getByTestId('batch-confirm').click();
      await expect(page.getByTestId('reason-dialog')).toBeVisible();
      await checkA11y(page, 'batch retry confirmation dialog');
      await confirmDialog(page, 'e2e: Công an đã hoạt động lại sau sự cố');
      await expect(page.getByTestId('batch-status')).toContainText('Đã thử lại');
      for (const code of previewed) {
        await expect(results.locator('tr', { hasText: code })).toContainText(/Đã thử lại|Bỏ qua/);
      }
    }
    // The batch retried them, or skipped those the worker had already woken.
    expect(previewed.length, 'the dry run listed the stuck dossiers').toBeGreaterThan(0);

    // Every one gets past the Police steps and completes.
    await expect
      .poll(
        async () => {
          const done = await Promise.all(
            codes.map(async (code) => {
              const r = await api(clerk, 'GET', `/v1/dossiers/${code}?view=DOSSIER_VIEW_STATUS`);
              const d = r.body?.dossier;
              const police = (d?.steps ?? []).filter((s: { agency: string }) => s.agency === 'police');
              return d?.status === 'DOSSIER_STATUS_COMPLETED' || police.every((s: { status: string }) => s.status === 'STEP_STATUS_APPROVED');
            }),
          );
          return done.every(Boolean);
        },
        { timeout: 90_000, intervals: [1000] },
      )
      .toBe(true);

    // The trace shows the retry; the audit lists who read the personal data.
    await page.goto(`/#/supervisor/dossiers/${codes[0]}`);
    await expect(page.getByTestId('timeline')).toContainText('UNAVAILABLE');
    await checkA11y(page, 'dossier trace');

    // The dashboard.
    await page.goto('/#/supervisor');
    await expect(page.getByTestId('kpi-open')).toBeVisible();
    await expect(page.getByTestId('chart-volume-by-province').locator('canvas')).toBeVisible();
    await page.waitForTimeout(500);
    await page.screenshot({ path: docShot('supervisor.png') });
    await checkA11y(page, 'supervisor dashboard');

    // Every table exports to CSV with a header row.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv-step-timings').click()]);
    const csv = await download.createReadStream().then(async (s) => {
      const chunks: Buffer[] = [];
      for await (const c of s) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    });
    expect(csv.replace(/^\uFEFF/, '').split('\r\n')[0]).toBe('Cơ quan,Bước,Đã giải quyết,Đúng hạn,Tỷ lệ đúng hạn,Trung vị (giờ làm việc),Phân vị 90 (giờ làm việc)');

    // Over a date range the nation's counts come per province, so the
    // commune chart asks for a province instead of drawing an empty bar.
    const monthAgo = new Date(Date.now() - 30 * 86_400_000 + 7 * 3_600_000).toISOString().slice(0, 10);
    await page.locator('input[name="from"]').fill(monthAgo);
    await page.locator('form:has(input[name="from"]) button[type="submit"]').click();
    await expect(page.getByTestId('chart-volume-by-commune')).toContainText('chỉ hiện khi đã chọn một tỉnh');
    await expect(page.getByTestId('chart-volume-by-province').locator('canvas')).toBeVisible();
  } finally {
    if (!ended) await outage(admin, 'police', 0, 'e2e: dọn dẹp');
    await admin.context().close();
    await clerk.context().close();
  }
});
