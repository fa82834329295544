import { buildAssets, buildBinary, startStack, stackBaseUrl } from './stack';

export default async function globalSetup(): Promise<void> {
  if (process.env.E2E_BASE_URL) {
    console.log(`e2e: using the stack at ${stackBaseUrl()}`);
    return;
  }
  const t0 = Date.now();
  if (!process.env.E2E_SKIP_ASSETS) buildAssets();
  const bin = buildBinary();
  console.log(`e2e: built ${bin} in ${Math.round((Date.now() - t0) / 1000)} s`);
  const state = await startStack(bin);
  console.log(`e2e: stack ready at ${stackBaseUrl()} (data ${state.dataDir}) after ${Math.round((Date.now() - t0) / 1000)} s`);
}
