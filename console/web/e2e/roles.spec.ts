// A clerk of commune A opens commune B's dossier: no personal data, a "not found / not yours" message.
import { api, expect, samples, signIn, test } from './fixtures';

test("another commune's dossier shows nothing personal", async ({ page, browser }) => {
  await signIn(page, 'clerk', 'badinh');
  const sample = (await samples(page)).birth;
  const sub = await api(page, 'POST', '/v1/dossiers/birth', { ...sample, requestId: `e2e-roles-${Date.now()}` });
  expect(sub.status, JSON.stringify(sub.body)).toBe(200);
  const code: string = sub.body.code;

  const ctx = await browser.newContext();
  const other = await ctx.newPage();
  const user = await signIn(other, 'clerk', 'ngocha');
  expect(user.communeCode).not.toBe(sample.communeCode);
  for (const suffix of ['', '/slip', '/results']) {
    await other.goto(`/#/clerk/dossiers/${code}${suffix}`);
    await expect(other.getByTestId('not-yours')).toBeVisible();
    const text = await other.locator('main').innerText();
    expect(text).not.toContain(sample.form.child.fullName);
    expect(text).not.toContain(sample.form.requester.phone);
    expect(text).not.toContain(sample.form.mother.fullName);
  }
  await ctx.close();

  // Signed out, a clerk page asks to sign in first.
  const anon = await browser.newContext();
  const p = await anon.newPage();
  await p.goto(`/#/clerk/dossiers/${code}`);
  await expect(p).toHaveURL(/#\/signin\?next=/);
  await anon.close();
});
