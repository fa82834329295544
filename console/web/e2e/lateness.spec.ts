// A late agency apologises: on a stack of its own whose steps are due 20 s
// after they are sent (dev --drill-step-deadline), Police in manual mode lets
// a residence cancellation pass its deadline. The officer's queue marks the
// case, the officer issues the apology with a reason and a new date, the
// clerk prints the slip with that date, and the supervisor counts it.
import type { Browser, Page } from '@playwright/test';
import { api, checkA11y, docShot, expect, samples, signIn, test } from './fixtures';
import { buildBinary, startStack, stopStack, type State } from './stack';

const BASE = 18500;
let stack: State;

test.beforeAll(async () => {
  test.setTimeout(300_000);
  stack = await startStack(buildBinary(), { base: BASE, demo: false, extraArgs: ['--drill-step-deadline', '20s'] });
});
test.afterAll(async () => {
  await stopStack(BASE);
});

async function newPage(browser: Browser): Promise<Page> {
  const ctx = await browser.newContext({
    baseURL: stack.baseUrl,
    viewport: { width: 1280, height: 900 },
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
  return ctx.newPage();
}

/** A working day (Monday to Friday) at 10:00, at least `days` days ahead, as a datetime-local value. */
function workingDayAhead(days: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  while (d.getDay() === 0 || d.getDay() === 6) d.setDate(d.getDate() + 1);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T10:00`;
}

test('lateness: the late agency apologises with a new date; the clerk prints the slip; the supervisor counts it', async ({ browser }) => {
  test.setTimeout(240_000);
  const admin = await newPage(browser);
  await signIn(admin, 'admin');
  await admin.goto('/#/admin');
  const manual = admin.getByTestId('mode-police-manual');
  await manual.click();
  await expect(manual).toHaveAttribute('aria-pressed', 'true');

  const clerk = await newPage(browser);
  await signIn(clerk, 'clerk', 'badinh');
  const { death } = await samples(clerk);
  const body = { ...death, requestId: `e2e-late-${Date.now()}`, form: { ...death.form, bundle: 'DEATH_BUNDLE_TWO', recipient: undefined } };
  const sub = await api(clerk, 'POST', '/v1/dossiers/death', body);
  expect(sub.status, JSON.stringify(sub.body)).toBe(200);
  const code: string = sub.body.code;

  // The deadline passes while Police holds the case: the queue marks it.
  const officer = await newPage(browser);
  await signIn(officer, 'officer', 'congan-1');
  await officer.goto('/#/desk');
  const row = officer.locator(`[data-testid="desk-queue"] tr[data-dossier="${code}"]`);
  await expect(row.getByTestId('apology-owed')).toBeVisible({ timeout: 90_000 });
  await row.getByRole('link').first().click();
  const card = officer.getByTestId('apology-card');
  await expect(card).toBeVisible();

  // A missing reason is named beside its field; then the slip is issued.
  await officer.getByTestId('apology-submit').click();
  await expect(officer.locator('#f-reason-error')).toBeVisible();
  const reason = 'Cơ sở dữ liệu cư trú gián đoạn, cơ quan chưa xác minh kịp.';
  await officer.locator('#f-reason').fill(reason);
  const newDate = workingDayAhead(10);
  await officer.locator('#f-new_appointment_at').fill(newDate);
  await checkA11y(officer, 'apology form');
  await officer.getByTestId('apology-submit').click();
  await expect(card).toContainText('/PXL');

  // The clerk's dossier page links the slip, and the slip carries the date.
  await clerk.goto(`/#/clerk/dossiers/${code}`);
  const link = clerk.getByTestId('apology-issued').getByRole('link');
  await expect(link).toBeVisible({ timeout: 15_000 });
  await link.click();
  const letter = clerk.getByTestId('apology-letter');
  await expect(letter).toBeVisible();
  await expect(clerk.getByTestId('apology-reason')).toHaveText(reason);
  const [y, m, d] = newDate.slice(0, 10).split('-');
  await expect(clerk.getByTestId('apology-new-date')).toContainText(`${d}/${m}/${y}`);
  await checkA11y(clerk, 'apology slip');
  await clerk.screenshot({ path: docShot('apology-slip.png'), fullPage: true });

  // The supervisor sees the apology counted against Police.
  const supervisor = await newPage(browser);
  await signIn(supervisor, 'supervisor', 'national');
  await supervisor.goto('/#/supervisor/apologies');
  await expect(supervisor.getByTestId('apology-counts')).toContainText('1');
  await expect(supervisor.getByTestId('apology-list')).toContainText(code);
  await checkA11y(supervisor, 'apologies');
  await supervisor.screenshot({ path: docShot('supervisor-apologies.png'), fullPage: true });
});
