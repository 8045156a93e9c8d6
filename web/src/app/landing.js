// Entry module of the landing page (index.html): log in / register, then open the app window.

import { createApiClient } from '../net/api-client.js';
import { startPageLanguage } from './page-language.js';
import { logOutAndWipe, listenForAnnouncements } from './session-end.js';
import '../ui/landing-page.js';

export const appWindowName = 'secms-app';
const appWindowFeatures = 'popup,width=1100,height=760';

/**
 * Opens (or focuses) the app window. Returns false when the browser blocked the pop-up,
 * so the page can offer a button (a fresh user gesture) and a same-tab link instead.
 */
function openAppWindow() {
  const appWindow = window.open('/app.html', appWindowName, appWindowFeatures);
  if (!appWindow) return false;
  appWindow.focus();
  return true;
}

startPageLanguage({ titleKey: 'landing.title' });

const api = createApiClient();
const landingPage = document.createElement('secms-landing-page');
landingPage.api = api;
landingPage.openAppWindow = openAppWindow;
landingPage.logout = () => logOutAndWipe({ api });
document.body.append(landingPage);

listenForAnnouncements((message) => {
  if (message.type === 'logged-out') landingPage.showLoggedOut();
  // The app window's logout did not end the server session: say so here too.
  else if (message.type === 'logout-failed') landingPage.showLogoutFailed(message.stillLoggedIn);
});
