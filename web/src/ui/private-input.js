// One text or password field that browsers and password managers must not remember or fill
// (DESIGN.md §8: no autofill or form history). Every credential field is made here, so the
// attribute list lives in one place.

import { html, nothing } from 'lit';

/** Options: { id, type = 'password', describedBy, disabled, maxlength = 1024 }. The name equals the id. */
export function privateInput({ id, type = 'password', describedBy, disabled = false, maxlength = 1024 }) {
  return html`<input id=${id} name=${id} type=${type} autocomplete="off" autocapitalize="none" autocorrect="off"
    spellcheck="false" data-lpignore="true" data-1p-ignore data-form-type="other" maxlength=${maxlength}
    aria-describedby=${describedBy ?? nothing} ?disabled=${disabled}>`;
}
