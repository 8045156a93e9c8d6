// axe-core (WCAG 2.0/2.1 A and AA) on the app window with a verified user in the online list, in
// the light theme at 1100 px: no serious or critical violation (issue 15: the contrast of the
// theme's colours, the certified shield's name, the account menu trigger's name).
//
//   npm run build && node --test tests/e2e/a11y-app.test.mjs

import { test, before, after } from 'node:test';
import { startServer } from './helpers/server.mjs';
import { loopbackRateLimits } from '../helpers/secms-server.mjs';
import { launchBrowser } from './helpers/browser.mjs';
import { registeredUser, createIdentityInApp, waitForOnline } from './helpers/app-flows.mjs';
import { assertNoSeriousViolations } from '../helpers/axe.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ extraArgs: [...loopbackRateLimits] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the app window with a certified user online: no serious or critical WCAG 2.1 AA violation (light theme)', { timeout: 120_000 }, async (t) => {
  const alice = await registeredUser(t, browser, server.origin, 'axa');
  const bob = await registeredUser(t, browser, server.origin, 'axb');
  for (const user of [alice, bob]) {
    await user.app.emulateMedia({ colorScheme: 'light' });
    await createIdentityInApp(user.app, { name: `${user.username} Example`, email: `${user.username}@example.org` });
  }
  await waitForOnline(alice.app, [alice.username, bob.username]);
  await alice.app.locator('secms-online-users .certified').first().waitFor({ timeout: 20_000 }).catch(() => {});
  await assertNoSeriousViolations(alice.app, 'app window, light theme');
});
