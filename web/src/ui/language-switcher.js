// Language picker. Changing it updates the i18n runtime; the page entry module reacts
// (document language, title, remembered choice).

import { LitElement, html, css } from 'lit';
import { t, getLanguage, setLanguage, supportedLanguages } from '../i18n/index.js';
import { LanguageController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';

export class LanguageSwitcher extends LitElement {
  static styles = [controlStyles, css`
    :host { display: inline-flex; }
    label { display: inline-flex; align-items: center; gap: var(--space-1); color: var(--color-text-muted); }
    select {
      height: 34px; padding: 0 var(--space-2);
      border: 1px solid var(--color-border); border-radius: var(--radius-s);
      background: var(--color-surface); cursor: pointer;
    }
  `];

  constructor() {
    super();
    new LanguageController(this);
  }

  render() {
    const current = getLanguage();
    return html`
      <label>
        ${icons.globe}
        <span class="visually-hidden">${t('language.label')}</span>
        <select data-testid="language" @change=${(event) => setLanguage(event.target.value)}>
          ${supportedLanguages.map((language) => html`
            <option value=${language} ?selected=${language === current} lang=${language}>${t(`language.${language}`)}</option>`)}
        </select>
      </label>`;
  }
}

customElements.define('secms-language-switcher', LanguageSwitcher);
