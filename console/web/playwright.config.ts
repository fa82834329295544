import { defineConfig } from '@playwright/test';
import { stackBaseUrl } from './e2e/stack';

// Runs against a real `lienthong dev --ephemeral` stack that global-setup
// starts (or E2E_BASE_URL, a stack you run yourself).
export default defineConfig({
  testDir: './e2e',
  testMatch: /.*\.spec\.ts$/,
  globalSetup: './e2e/global-setup.ts',
  globalTeardown: './e2e/global-teardown.ts',
  retries: 0,
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  globalTimeout: 600_000,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: stackBaseUrl(),
    viewport: { width: 1280, height: 800 },
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
    trace: 'off',
    screenshot: 'only-on-failure',
    browserName: 'chromium',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--lang=vi-VN',
      ],
    },
  },
});
