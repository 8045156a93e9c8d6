// Pure i18n runtime: no DOM access, so it runs in node tests as well as in pages.
// Components subscribe to language changes; every visible string goes through t().

import en from './en.js';
import fr from './fr.js';

export const catalogues = Object.freeze({ en, fr });
export const supportedLanguages = Object.freeze(Object.keys(catalogues));
export const defaultLanguage = 'en';

let currentLanguage = defaultLanguage;
const listeners = new Set();

/**
 * Picks the first supported language from a preference list such as navigator.languages
 * ("fr-CA" matches "fr"); falls back to English.
 */
export function pickLanguage(preferred) {
  const list = Array.isArray(preferred) ? preferred : [preferred];
  for (const tag of list) {
    if (typeof tag !== 'string') continue;
    const base = tag.toLowerCase().split('-')[0];
    if (supportedLanguages.includes(base)) return base;
  }
  return defaultLanguage;
}

export function getLanguage() {
  return currentLanguage;
}

export function setLanguage(language) {
  if (!supportedLanguages.includes(language)) {
    throw new RangeError(`setLanguage: unsupported language ${JSON.stringify(language)}`);
  }
  if (language === currentLanguage) return;
  currentLanguage = language;
  for (const listener of listeners) listener(language);
}

/** Returns an unsubscribe function. */
export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const pluralRules = new Map();

/** The CLDR plural category of `count` in `language` ('one', 'other', 'many', …). */
export function pluralCategory(language, count) {
  if (!pluralRules.has(language)) pluralRules.set(language, new Intl.PluralRules(language));
  return pluralRules.get(language).select(count);
}

// Plural forms are sibling keys named by CLDR category: 'room.members_count.one',
// 'room.members_count.other'. A numeric `count` parameter picks the form (French puts 0 with
// 1, English does not); a form a language lacks falls back to its '.other'.
function lookup(language, key, params) {
  const catalogue = catalogues[language];
  if (!(`${key}.other` in catalogue)) return catalogue[key];
  const count = params?.count;
  const form = typeof count === 'number' && Number.isFinite(count) ? catalogue[`${key}.${pluralCategory(language, count)}`] : undefined;
  return form ?? catalogue[`${key}.other`];
}

/**
 * Translates a key, filling {placeholders} from params. A key missing from the current
 * catalogue falls back to English, then to the key itself, so a gap shows up visibly
 * instead of as an empty string. Keys with plural forms are chosen by params.count.
 */
export function t(key, params) {
  const template = lookup(currentLanguage, key, params) ?? lookup(defaultLanguage, key, params) ?? key;
  if (!params) return template;
  return template.replace(/\{([a-z_]+)\}/g, (whole, name) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole);
}
