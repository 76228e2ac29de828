// Debian's Chromium, headless, as the benchmarks launch it (the tests' harness does the same in
// tests/web/browser/harness.ts).
import { chromium } from 'playwright-core';

/** Launches headless Chromium without a profile's background work. */
export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
