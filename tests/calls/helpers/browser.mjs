// Headless Chromium for the call tests: the flags of DESIGN.md §9 plus WebRTC on loopback with
// fake camera and microphone. These tests run inside a network namespace that has only `lo`
// (scripts/loopback-netns.sh); assertLoopbackOnly() makes a run outside one fail instead of
// sending media over a real interface.

import os from 'node:os';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../../e2e/helpers/browser.mjs';

export const webrtcArgs = Object.freeze([
  '--allow-loopback-in-peer-connection',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  // Audio must play although no user gesture happened in the headless page.
  '--autoplay-policy=no-user-gesture-required',
]);

/** Throws unless every network interface of this process is a loopback one. */
export function assertLoopbackOnly() {
  const interfaces = os.networkInterfaces();
  const others = Object.entries(interfaces)
    .filter(([, addresses]) => addresses.some((address) => !address.internal))
    .map(([name]) => name);
  if (others.length > 0) {
    throw new Error(`the call tests must run in a loopback-only network namespace (scripts/loopback-netns.sh); found ${others.join(', ')}`);
  }
}

/** Chromium with WebRTC on loopback; `extraArgs` add flags (e.g. a fake capture file). */
export function launchCallBrowser({ extraArgs = [] } = {}) {
  assertLoopbackOnly();
  return chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs, ...webrtcArgs, ...extraArgs] });
}
