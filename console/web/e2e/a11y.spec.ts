// axe-core on the clerk's and the citizen's pages not covered elsewhere.
import { checkA11y, expect, signIn, test } from './fixtures';

test('sign-in and citizen pages have no serious accessibility violations', async ({ page }) => {
  await page.goto('/#/signin');
  await expect(page.locator('[data-user]').first()).toBeVisible();
  await checkA11y(page, 'sign-in');
  await page.goto('/#/lookup');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await checkA11y(page, 'lookup');
  await page.goto('/#/verify');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await checkA11y(page, 'verify');
  // English too.
  await page.getByRole('button', { name: /EN/ }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Verify a certificate extract');
  await checkA11y(page, 'verify (en)');
  await page.getByRole('button', { name: /VI/ }).click();
});

test('clerk pages have no serious accessibility violations', async ({ page }) => {
  await signIn(page, 'clerk', 'badinh');
  for (const [hash, heading] of [
    ['#/clerk/new', 'Tiếp nhận hồ sơ mới'],
    ['#/clerk/new/birth', 'Tiếp nhận hồ sơ liên thông khai sinh'],
    ['#/clerk/new/death', 'Tiếp nhận hồ sơ liên thông khai tử'],
    ['#/clerk/outbox', 'Hộp gửi và bản nháp'],
  ] as const) {
    await page.goto(`/${hash}`);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(heading);
    await page.waitForTimeout(300);
    await checkA11y(page, hash);
  }
  // Keyboard: the first Tab reaches the skip link.
  await page.goto('/#/clerk');
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(page.locator('.skip-link')).toBeFocused();
});
