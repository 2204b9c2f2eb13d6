// Types of chromium.mjs, for the test that imports it.
export declare const CHROMIUM: string;
export declare const INSTALL_CHROMIUM: string;
export default class BrowserTestSkippedNotice {
  onRunComplete(testContexts: Set<{ config: { displayName?: { name: string } } }>): void;
}
