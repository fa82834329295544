// A clerk takes in a four-procedure death: the survivor benefit's relatives
// are part of the form, a bad field of a relative is shown beside it, and
// once submitted the dossier page shows Social Insurance's decision.
import { checkA11y, expect, signIn, test } from './fixtures';

test('death, four procedures: a relative\'s error beside its field, then the survivor benefit decided', async ({ page }) => {
  await signIn(page, 'clerk', 'badinh');
  await page.goto('/#/clerk/new/death');
  await page.getByRole('button', { name: 'Điền từ hồ sơ mẫu' }).click();
  await expect(page.locator('#f-form-deceased-full_name')).not.toHaveValue('');
  await expect(page.locator('#f-form-bundle')).toHaveValue('DEATH_BUNDLE_FOUR');
  const relative = page.locator('#f-form-survivor_benefit-survivors-0-');
  await expect(relative.locator('legend')).toHaveText('Thân nhân 1');

  const id = page.locator('#f-form-survivor_benefit-survivors-0--id_number');
  const good = await id.inputValue();
  await id.fill('123');
  await page.getByRole('button', { name: 'Gửi hồ sơ' }).click();
  const summary = page.getByRole('alert').filter({ hasText: 'Hồ sơ chưa được tiếp nhận' });
  await expect(summary).toBeVisible();
  await expect(id).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#f-form-survivor_benefit-survivors-0--id_number-error')).toContainText('12 chữ số');
  await expect(summary.locator('a[href="#f-form-survivor_benefit-survivors-0--id_number"]')).toContainText('Thân nhân 1');
  await checkA11y(page, 'death form, four procedures, with an error');
  await page.screenshot({ path: 'test-results/clerk-survivor-form.png', fullPage: true });

  await id.fill(good);
  await page.getByRole('button', { name: 'Gửi hồ sơ' }).click();
  await page.waitForURL(/#\/clerk\/dossiers\/[^/]+\/slip/);
  const code = decodeURIComponent(/dossiers\/([^/]+)\/slip/.exec(page.url())![1]!);

  await page.goto(`/#/clerk/dossiers/${encodeURIComponent(code)}`);
  const row = page.getByTestId('steps').locator('tr[data-step="STEP_KIND_SURVIVOR_BENEFIT"]');
  await expect(row.locator('th')).toHaveText('Trợ cấp tuất');
  await expect(row).toHaveAttribute('data-status', /STEP_STATUS_(APPROVED|REJECTED)/, { timeout: 30_000 });
  if ((await row.getAttribute('data-status')) === 'STEP_STATUS_APPROVED') {
    await row.getByText('Kết quả').click();
    const result = page.getByTestId('step-result-STEP_KIND_SURVIVOR_BENEFIT');
    await expect(result).toContainText('Loại trợ cấp');
    await expect(result).toContainText(/Trợ cấp tuất (hằng tháng|một lần)/);
    await expect(result).toContainText('Thân nhân 1');
  } else {
    await expect(row).toContainText('not eligible for the survivor benefit');
  }
  await checkA11y(page, 'dossier page, four procedures');
  await page.screenshot({ path: 'test-results/clerk-survivor.png', fullPage: true });
});
