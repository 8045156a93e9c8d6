// One text or password field that browsers and password managers must not remember or fill
// (DESIGN.md §8: no autofill or form history). Every credential field is made here, so the
// attribute list lives in one place.
//
// Chromium (and Safari) ignore autocomplete="off" on password fields; "new-password" is the
// token they honour today: no saved password is filled into such a field, on any browser. Text
// fields keep "off" (honoured for form history). The data-* hints are the opt-outs of common
// password-manager extensions. See docs/threat-model.md "No autofill".

import { html, nothing } from 'lit';

/**
 * Options: { id, type = 'password', describedBy, invalid, disabled, maxlength = 1024, onInput }. The name equals the id;
 * `invalid` sets aria-invalid (the error text is then the first id of `describedBy`, see field-errors.js).
 */
export function privateInput({ id, type = 'password', describedBy, invalid = false, disabled = false, maxlength = 1024, onInput }) {
  return html`<input id=${id} name=${id} type=${type} autocomplete=${type === 'password' ? 'new-password' : 'off'} autocapitalize="none" autocorrect="off"
    spellcheck="false" data-lpignore="true" data-1p-ignore data-form-type="other" maxlength=${maxlength}
    aria-describedby=${describedBy ?? nothing} aria-invalid=${invalid ? 'true' : nothing} ?disabled=${disabled} @input=${onInput ?? nothing}>`;
}
