// Page-side language set-up shared by both pages: initial language (remembered choice,
// else the browser's), <html lang>, the window title, and remembering a change.

import { t, setLanguage, getLanguage, onLanguageChange, pickLanguage, supportedLanguages } from '../i18n/index.js';

const storageKey = 'secms.language';

function readStoredLanguage() {
  try {
    return localStorage.getItem(storageKey);
  } catch {
    return null;  // storage disabled: fall back to the browser's language
  }
}

export function startPageLanguage({ titleKey }) {
  const stored = readStoredLanguage();
  setLanguage(supportedLanguages.includes(stored) ? stored : pickLanguage(navigator.languages?.length ? navigator.languages : [navigator.language]));
  const apply = () => {
    document.documentElement.lang = getLanguage();
    document.title = t(titleKey);
  };
  apply();
  onLanguageChange((language) => {
    apply();
    try {
      localStorage.setItem(storageKey, language);
    } catch {
      // Not remembered; the choice still holds for this page.
    }
  });
}
