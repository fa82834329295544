import { stopStack } from './stack';

export default async function globalTeardown(): Promise<void> {
  if (process.env.E2E_BASE_URL) return;
  await stopStack();
}
