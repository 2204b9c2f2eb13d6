// Internal: where the explorer's browser test finds Chromium
// (test/system/explorer-browser.test.ts), and the Jest reporter that says,
// last in `npm test`'s output, that the test did not run without it.
// jest.config.js leaves the test out, and lists this reporter, when Chromium
// is missing outside CI; under CI the test runs and fails without it.

/** The browser the test drives through playwright-core: Debian's Chromium, or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** How to install it (Debian and Ubuntu; .ci/run does this). */
export const INSTALL_CHROMIUM = 'sudo apt-get install -y chromium';

/**
 * Prints the notice when the system tier was part of the run. It waits for
 * the process to exit: Jest prints its summary after every reporter, and the
 * notice belongs below it (writes to stderr are synchronous on Linux, where
 * this setup runs).
 */
export default class BrowserTestSkippedNotice {
  onRunComplete(testContexts) {
    const systemRan = [...testContexts].some((context) => context.config.displayName?.name === 'system');
    if (!systemRan) return;
    process.once('exit', () =>
      process.stderr.write(
        `\nNot run: the explorer's browser test (test/system/explorer-browser.test.ts) needs Chromium at ${CHROMIUM}, which is not installed.\n` +
          `Install it with \`${INSTALL_CHROMIUM}\`, then run \`npm run test:system\` again. The other tests ran.\n`,
      ),
    );
  }
}
