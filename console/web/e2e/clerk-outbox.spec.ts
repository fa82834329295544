// The network drops while a submission is in flight: the request reaches the
// server, its answer is lost, and the browser goes offline. When it comes
// back, the outbox resends the same requestId: exactly one dossier exists.
import { api, expect, signIn, test } from './fixtures';

test('a lost answer and an offline spell make exactly one dossier', async ({ page, context }) => {
  await signIn(page, 'clerk', 'badinh');
  const before = await api(page, 'GET', '/v1/dossiers?pageSize=500');
  const codesBefore = new Set<string>((before.body.dossiers ?? []).map((d: { code: string }) => d.code));

  const requestIds: string[] = [];
  let first = true;
  await page.route('**/v1/dossiers/birth', async (route) => {
    requestIds.push((route.request().postDataJSON() as { requestId: string }).requestId);
    if (first) {
      first = false;
      // The request reaches the server, which makes the dossier; the answer is lost.
      const answer = await route.fetch();
      expect(answer.status()).toBe(200);
      await route.abort('connectionreset');
      await context.setOffline(true);
      return;
    }
    await route.continue();
  });

  await page.goto('/#/clerk/new/birth');
  await page.getByRole('button', { name: 'Điền từ hồ sơ mẫu' }).click();
  await expect(page.locator('#f-form-child-full_name')).not.toHaveValue('');
  await page.getByRole('button', { name: 'Gửi hồ sơ' }).click();

  // The clerk is told it is waiting; the outbox shows it waiting to be sent again.
  await expect(page.getByTestId('sending')).toBeVisible();
  await page.goto('/#/clerk/outbox');
  const row = page.getByTestId('outbox').locator('tbody tr').first();
  await expect(row).toHaveAttribute('data-state', /waiting|sent/);
  await page.waitForTimeout(2500); // retries fail while offline
  await expect(row).toHaveAttribute('data-state', /waiting|sent/);

  // Back online: the `online` event sends it at once, with the same requestId.
  await context.setOffline(false);
  await expect(row).toHaveAttribute('data-state', 'received', { timeout: 20_000 });
  const code = (await row.getByTestId('outbox-code').innerText()).trim();
  expect(code).toMatch(/^\d{5}-\d{6}-\d+$/);

  expect(requestIds.length).toBeGreaterThanOrEqual(2);
  expect(new Set(requestIds).size).toBe(1);

  const after = await api(page, 'GET', '/v1/dossiers?pageSize=500');
  const fresh = (after.body.dossiers ?? []).map((d: { code: string }) => d.code).filter((c: string) => !codesBefore.has(c));
  expect(fresh).toEqual([code]);

  // It survives a reload: still received with its code.
  await page.reload();
  await expect(page.getByTestId('outbox').locator(`tr[data-code="${code}"]`)).toHaveAttribute('data-state', 'received');
});

test('a draft survives a closed browser tab', async ({ page, context }) => {
  await signIn(page, 'clerk', 'badinh');
  await page.goto('/#/clerk/new/death');
  await page.locator('#f-form-deceased-full_name').fill('Trần Văn Thử');
  await expect(page).toHaveURL(/draft=/);
  await page.close();
  const again = await context.newPage();
  await again.goto('/#/clerk/outbox');
  const row = again.getByTestId('outbox').locator('tr[data-state="draft"]', { hasText: 'Trần Văn Thử' });
  await expect(row).toBeVisible();
  await row.getByRole('link', { name: 'Tiếp tục nhập' }).click();
  await expect(again.locator('#f-form-deceased-full_name')).toHaveValue('Trần Văn Thử');
});
