// Sign-in through OpenID Connect, on a stack of its own (base 18700) whose
// API signs people in through the test provider (internal/oidctest, its own
// program on 18797) with 20-second tokens: a clerk signs in on the
// provider's page, sees the queue, keeps working while the session is
// renewed silently several times, is told plainly when a renewal fails and
// signs in again in a small window without losing what was typed, and logs
// out at the provider too. A clerk whose account lacks the commune is told
// which claim is missing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { tmpdir } from 'node:os';
import type { Browser, Page } from '@playwright/test';
import { api, checkA11y, docShot, expect, samples, test } from './fixtures';
import { buildBinary, portsAt, repoDir, startStack, stopStack, type State } from './stack';

const BASE = 18700;
const IDP = `http://127.0.0.1:${BASE + 97}`;
const PROVIDER_NAME = 'Cổng định danh thử nghiệm';
const TOKEN_SECONDS = 20;
let stack: State;
let idp: ChildProcess;

/** go build the test provider (a test program, not part of lienthong). */
function buildProvider(): string {
  const bin = path.join(tmpdir(), 'lienthong-e2e-bin', 'lienthong-test-idp');
  const r = spawnSync('go', ['build', '-o', bin, './internal/oidctest/cmd/lienthong-test-idp'], {
    cwd: repoDir, stdio: 'inherit', env: { ...process.env, GOTOOLCHAIN: 'local' },
  });
  if (r.status !== 0) throw new Error('building the test provider failed');
  return bin;
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer`);
}

test.beforeAll(async () => {
  test.setTimeout(300_000);
  const console = `http://127.0.0.1:${portsAt(BASE).apiHttp}`;
  idp = spawn(buildProvider(), ['--addr', IDP.replace('http://', ''), '--console', console, '--access-ttl', `${TOKEN_SECONDS}s`], { stdio: 'inherit' });
  await waitFor(`${IDP}/.well-known/openid-configuration`);
  stack = await startStack(buildBinary(), {
    base: BASE,
    demo: false,
    extraArgs: ['--oidc-issuer', IDP, '--oidc-client-id', 'lienthong-console', '--oidc-client-secret', 'test-console-secret',
      '--oidc-provider-name', PROVIDER_NAME],
  });
});
test.afterAll(async () => {
  await stopStack(BASE);
  idp?.kill('SIGINT');
});

async function newPage(browser: Browser): Promise<Page> {
  const ctx = await browser.newContext({ baseURL: stack.baseUrl, viewport: { width: 1280, height: 800 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  return ctx.newPage();
}

/** On the provider's page, signs in as the user whose label contains `who`. */
async function atProvider(page: Page, who: string): Promise<void> {
  await page.waitForURL((u) => u.href.startsWith(IDP));
  await page.getByRole('button', { name: who }).click();
}

async function signInThroughProvider(page: Page, who: string): Promise<void> {
  await page.goto('/#/signin');
  await page.getByRole('link', { name: `Đăng nhập bằng ${PROVIDER_NAME}` }).click();
  await atProvider(page, who);
}

/** Counts the console's silent renewals. */
function countRenewals(page: Page): { ok: number; failed: number } {
  const n = { ok: 0, failed: 0 };
  page.on('response', (r) => {
    if (!r.url().endsWith('/v1/session/refresh')) return;
    if (r.ok()) n.ok++;
    else n.failed++;
  });
  return n;
}

test('a clerk signs in through the provider, works on through silent renewals, and logs out there too', async ({ browser }) => {
  test.setTimeout(150_000);
  const page = await newPage(browser);
  const renewals = countRenewals(page);

  await page.goto('/#/signin');
  const button = page.getByRole('link', { name: `Đăng nhập bằng ${PROVIDER_NAME}` });
  await expect(button).toBeVisible();
  await expect(page.locator('[data-user]').first()).toBeVisible(); // dev keeps its demo users
  await checkA11y(page, 'sign-in with a provider');
  await page.screenshot({ path: docShot('signin.png') });

  await button.click();
  await atProvider(page, 'Nguyễn Thị Lan');
  await page.waitForURL(/#\/clerk/);
  await expect(page.getByTestId('who')).toContainText('Nguyễn Thị Lan');
  await expect(page.getByTestId('who')).toContainText('00004');

  // A write with the provider's token (and the session's CSRF token), seen in the queue.
  const { birth } = await samples(page);
  const submitted = await api(page, 'POST', '/v1/dossiers/birth', { ...birth, requestId: `oidc-${Date.now()}` });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
  const code = submitted.body.code as string;
  await page.goto('/#/clerk');
  await expect(page.getByTestId('dossiers')).toContainText(code);
  const firstCookie = (await page.context().cookies()).find((c) => c.name === 'lienthong_session')?.value;

  // Past the first token's life and then some: renewed with nothing to do.
  await expect.poll(() => renewals.ok, { timeout: (TOKEN_SECONDS * 2 + 10) * 1000, intervals: [1000] }).toBeGreaterThanOrEqual(3);
  expect(renewals.failed).toBe(0);
  await expect(page.getByTestId('renewal')).toHaveCount(0);
  expect((await page.context().cookies()).find((c) => c.name === 'lienthong_session')?.value).not.toBe(firstCookie);
  await page.reload();
  await expect(page.getByTestId('dossiers')).toContainText(code);
  await expect(page.getByTestId('who')).toContainText('Nguyễn Thị Lan');
  const again = await api(page, 'POST', '/v1/dossiers/birth', { ...birth, requestId: `oidc-late-${Date.now()}` });
  expect(again.status, 'a write long after the first token expired').toBe(200);

  // Logout: the cookies go, the provider ends its session and sends the browser back.
  const ended = page.waitForRequest((r) => r.url().startsWith(`${IDP}/end-session`));
  await page.getByTestId('sign-out').click();
  await ended;
  await page.waitForURL(`${stack.baseUrl}/#/signin`);
  await expect(page.getByRole('link', { name: `Đăng nhập bằng ${PROVIDER_NAME}` })).toBeVisible();
  expect((await api(page, 'GET', '/v1/session')).status).toBe(401);
  const logouts = (await (await fetch(`${IDP}/control/logouts`)).json()) as { logouts: string[] };
  expect(logouts.logouts).toContain('lan.nguyen');
});

test('a failed renewal is said plainly, and signing in again keeps what was typed', async ({ browser }) => {
  test.setTimeout(120_000);
  const page = await newPage(browser);
  const renewals = countRenewals(page);
  await signInThroughProvider(page, 'Nguyễn Thị Lan');
  await page.waitForURL(/#\/clerk/);
  await page.goto('/#/clerk/new/birth');
  const name = page.locator('#f-form-child-full_name');
  await name.fill('Nguyễn Văn Đang Nhập');

  await fetch(`${IDP}/control/fail-refresh`, { method: 'POST', body: new URLSearchParams({ on: '1' }) });
  try {
    const banner = page.getByTestId('renewal');
    await expect(banner).toContainText('Không gia hạn được phiên đăng nhập', { timeout: TOKEN_SECONDS * 1000 });
    expect(renewals.failed).toBeGreaterThanOrEqual(1);
    await checkA11y(page, 'renewal failed');
    await page.screenshot({ path: 'test-results/oidc-renewal-failed.png' });
  } finally {
    await fetch(`${IDP}/control/fail-refresh`, { method: 'POST', body: new URLSearchParams({ on: '0' }) });
  }
  await expect(name).toHaveValue('Nguyễn Văn Đang Nhập');

  const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: 'Đăng nhập lại' }).click()]);
  await atProvider(popup, 'Nguyễn Thị Lan');
  await popup.waitForEvent('close', { timeout: 15_000 });
  await expect(page.getByTestId('renewal')).toHaveCount(0);
  await expect(name).toHaveValue('Nguyễn Văn Đang Nhập');
  expect(page.url()).toContain('#/clerk/new/birth');
  // Renewals work again.
  const before = renewals.ok;
  await expect.poll(() => renewals.ok, { timeout: TOKEN_SECONDS * 1000, intervals: [1000] }).toBeGreaterThan(before);
});

test('an account without the commune is told which claim is missing', async ({ browser }) => {
  const page = await newPage(browser);
  await signInThroughProvider(page, 'Lê Văn Tám');
  const failure = page.getByTestId('signin-failure');
  await expect(failure).toContainText('Đăng nhập không thành công');
  await expect(failure).toContainText(`Tài khoản của bạn ở ${PROVIDER_NAME} thiếu hoặc sai thông tin «commune» (mã xã, phường nơi làm việc)`);
  await expect(page.getByTestId('who')).toHaveCount(0);
  expect((await api(page, 'GET', '/v1/session')).status).toBe(401);
  await checkA11y(page, 'sign-in failed');
  await page.screenshot({ path: 'test-results/oidc-signin-failed.png' });
});
