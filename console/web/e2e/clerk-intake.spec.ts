// A clerk submits a birth dossier with two bad fields, sees each error beside
// its field, fixes them, submits, and prints the slip to PDF.
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { api, checkA11y, docShot, expect, signIn, test } from './fixtures';

async function pdfText(pdf: Buffer): Promise<string> {
  const doc = await getDocument({ data: new Uint8Array(pdf), isEvalSupported: false, useSystemFonts: false }).promise;
  let text = '';
  for (let i = 1; i <= doc.numPages; i++) {
    const content = await (await doc.getPage(i)).getTextContent();
    text += content.items.map((it) => ('str' in it ? it.str : '')).join(' ') + '\n';
  }
  return text;
}

test('birth: field errors beside their fields, fixed, submitted, slip printed to PDF', async ({ page }) => {
  await signIn(page, 'clerk', 'badinh');
  await page.goto('/#/clerk/new/birth');
  await page.getByRole('button', { name: 'Điền từ hồ sơ mẫu' }).click();
  await expect(page.locator('#f-form-child-full_name')).not.toHaveValue('');
  const childName = await page.locator('#f-form-child-full_name').inputValue();
  const motherId = await page.locator('#f-form-mother-id_number').inputValue();

  // Two bad fields.
  await page.locator('#f-form-child-full_name').fill('');
  await page.locator('#f-form-mother-id_number').fill('123');
  await page.getByRole('button', { name: 'Gửi hồ sơ' }).click();

  const summary = page.getByRole('alert').filter({ hasText: 'Hồ sơ chưa được tiếp nhận' });
  await expect(summary).toBeVisible();
  for (const [field, id] of [
    ['#f-form-child-full_name', 'f-form-child-full_name-error'],
    ['#f-form-mother-id_number', 'f-form-mother-id_number-error'],
  ] as const) {
    const input = page.locator(field);
    await expect(input).toHaveAttribute('aria-invalid', 'true');
    await expect(input).toHaveAttribute('aria-describedby', new RegExp(id));
    await expect(page.locator(`#${id}`)).not.toBeEmpty();
    // The summary links to the field.
    await expect(summary.locator(`a[href="${field}"]`)).toBeVisible();
  }
  // Everything else typed is kept.
  await expect(page.locator('#f-form-requester-phone')).not.toHaveValue('');
  await expect(page.locator('#f-form-residence-street_address')).not.toHaveValue('');
  await checkA11y(page, 'birth form with errors');

  // The summary's link moves focus to the field.
  await summary.locator('a[href="#f-form-child-full_name"]').click();
  await expect(page.locator('#f-form-child-full_name')).toBeFocused();

  await page.locator('#f-form-child-full_name').fill(childName);
  await page.locator('#f-form-mother-id_number').fill(motherId);
  await page.getByRole('button', { name: 'Gửi hồ sơ' }).click();

  await page.waitForURL(/#\/clerk\/dossiers\/[^/]+\/slip/);
  const code = decodeURIComponent(/dossiers\/([^/]+)\/slip/.exec(page.url())![1]!);
  await expect(page.getByTestId('slip-code')).toHaveText(code);
  const appointment = (await page.getByTestId('slip-appointment').innerText()).trim();
  expect(appointment).toMatch(/\d{2}\/\d{2}\/\d{4}/);
  await expect(page.getByTestId('slip-lookup')).toContainText(`/#/lookup?code=${code}`);
  await expect(page.locator('.slip svg[role="img"]')).toBeVisible();
  await checkA11y(page, 'slip');

  // Print to PDF with the print stylesheet.
  await page.emulateMedia({ media: 'print' });
  const pdf = await page.pdf({ format: 'A4', preferCSSPageSize: true });
  await page.emulateMedia({ media: 'screen' });
  const text = await pdfText(pdf);
  expect(text).toContain(code);
  expect(text).toContain(/\d{2}\/\d{2}\/\d{4}/.exec(appointment)![0]);
  expect(text).not.toContain('Đăng xuất'); // no header in print

  // The server has it, once.
  const r = await api(page, 'GET', `/v1/dossiers/${code}?view=DOSSIER_VIEW_STATUS`);
  expect(r.status).toBe(200);
});

test('clerk home lists the dossier and updates its status', async ({ page }) => {
  await signIn(page, 'clerk', 'badinh');
  await page.goto('/#/clerk');
  await expect(page.getByTestId('dossiers')).toBeVisible();
  const first = page.getByTestId('dossiers').locator('tbody tr').first();
  await expect(first).toHaveAttribute('data-status', /DOSSIER_STATUS_/);
  await checkA11y(page, 'clerk home');
  await page.screenshot({ path: docShot('clerk.png') });

  // The dossier page: steps, freshness, timeline.
  await first.locator('a').click();
  await expect(page.getByTestId('steps')).toBeVisible();
  await expect(page.getByTestId('synced-at')).toContainText(/cập nhật|vừa/);
  await checkA11y(page, 'dossier page');
});
