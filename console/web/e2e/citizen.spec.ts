// A citizen looks up a dossier and verifies its extract; a tampered extract is refused.
import { api, checkA11y, docShot, expect, samples, signIn, test, waitForStep } from './fixtures';

function b64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}

test('lookup, the clerk returns results, and extracts verify (a changed byte does not)', async ({ page, browser }) => {
  await signIn(page, 'clerk', 'badinh');
  const sample = (await samples(page)).birth;
  const sub = await api(page, 'POST', '/v1/dossiers/birth', { ...sample, requestId: `e2e-citizen-${Date.now()}` });
  expect(sub.status, JSON.stringify(sub.body)).toBe(200);
  const code: string = sub.body.code;
  const phone: string = sample.form.requester.phone;
  await waitForStep(page, code, 'STEP_KIND_BIRTH_REGISTRATION');

  // The clerk's dossier page lists what the applicant was told, with the masked recipient.
  await page.goto(`/#/clerk/dossiers/${code}`);
  const told = page.getByTestId('notifications');
  const receiptSMS = told.locator('tr[data-kind="NOTIFICATION_KIND_RECEIPT"][data-channel="NOTIFICATION_CHANNEL_SMS"]');
  await expect(receiptSMS).toHaveAttribute('data-state', 'NOTIFICATION_STATE_SENT');
  await expect(receiptSMS).toContainText(`Hồ sơ ${code}`);
  await expect(receiptSMS).toContainText(/tới \+84•+\d{4}/);
  await checkA11y(page, 'dossier with notifications');

  // The clerk's results page: the extract with its verify QR, and the Verify button.
  await page.goto(`/#/clerk/dossiers/${code}/results`);
  await expect(page.getByTestId('extract-entry')).not.toBeEmpty();
  await expect(page.locator('svg[role="img"]')).toBeVisible();
  await checkA11y(page, 'results');
  await page.getByTestId('verify-link').click();
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-authentic', 'true');
  await expect(page.getByTestId('signed-by')).not.toBeEmpty();

  const extract = (await api(page, 'GET', `/v1/dossiers/${code}/extract`)).body.extract;

  // A citizen, not signed in, on a phone.
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN' });
  const citizen = await ctx.newPage();
  await citizen.goto(`/#/lookup?code=${code}`);
  await expect(citizen.getByLabel('Mã hồ sơ')).toHaveValue(code);
  await citizen.getByLabel('Số điện thoại').fill(phone);
  await citizen.getByRole('button', { name: 'Tra cứu' }).click();
  const result = citizen.getByTestId('lookup-result');
  await expect(result).toBeVisible();
  await expect(result).toContainText(code);
  await expect(citizen.getByTestId('expected')).toContainText(/\d{2}\/\d{2}\/\d{4}/);
  await expect(result.locator('.timeline li').first()).toBeVisible();
  // What was sent, and when.
  await expect(citizen.getByTestId('notifications').locator('li[data-kind="NOTIFICATION_KIND_RECEIPT"]').first()).toContainText(
    `Hồ sơ ${code} (liên thông khai sinh) đã được tiếp nhận`,
  );
  // Nothing is wider than the phone.
  const overflow = await citizen.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await checkA11y(citizen, 'lookup (phone)');
  await citizen.screenshot({ path: docShot('citizen-phone.png'), fullPage: true });
  await citizen.setViewportSize({ width: 1280, height: 800 });
  await citizen.evaluate(() => window.scrollTo(0, 0));
  await citizen.screenshot({ path: docShot('citizen.png') });

  // A wrong phone finds nothing.
  await citizen.getByLabel('Số điện thoại').fill('0900000000');
  await citizen.getByRole('button', { name: 'Tra cứu' }).click();
  await expect(citizen.getByRole('alert')).toBeVisible();
  await expect(result).toBeHidden();

  // Its QR link verifies.
  await citizen.goto(`/#/verify?x=${b64url(JSON.stringify(extract))}`);
  await expect(citizen.getByTestId('verdict')).toHaveAttribute('data-authentic', 'true');
  await checkA11y(citizen, 'verify');

  // A changed byte in the payload is not valid: by link, by paste, by file.
  const payload = Buffer.from(extract.payload as string, 'base64');
  const at = payload.indexOf(Buffer.from('"registration_entry":"'));
  const i = at >= 0 ? at + '"registration_entry":"'.length : 10;
  payload[i] = payload[i] === 0x39 ? 0x38 : payload[i]! + 1;
  const tampered = { ...extract, payload: payload.toString('base64') };

  await citizen.goto(`/#/verify?x=${b64url(JSON.stringify(tampered))}`);
  await expect(citizen.getByTestId('verdict')).toHaveAttribute('data-authentic', 'false');
  await expect(citizen.getByTestId('verdict')).toContainText('KHÔNG hợp lệ');

  await citizen.goto('/#/verify');
  await citizen.getByLabel('Nội dung trích lục (JSON) hoặc đường dẫn kiểm tra').fill(JSON.stringify({ extract: tampered }));
  await citizen.getByRole('button', { name: 'Kiểm tra' }).click();
  await expect(citizen.getByTestId('verdict')).toHaveAttribute('data-authentic', 'false');

  await citizen.getByLabel('Hoặc chọn tệp trích lục').setInputFiles({
    name: 'trich-luc.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify({ extract })),
  });
  await expect(citizen.getByTestId('verdict')).toHaveAttribute('data-authentic', 'true');
  await ctx.close();
});
