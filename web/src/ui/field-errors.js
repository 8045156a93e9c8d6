// Form errors tied to their fields (WCAG 3.3.1, 3.3.3, 4.1.2): the field is aria-invalid, its
// description starts with the error text under it, the text names what to do ("Enter your
// password."), and focus goes to the first invalid field. A form keeps its errors as
// { [fieldId]: { key, params } }; fields are told apart by their element id.

import { html, nothing } from 'lit';
import { t } from '../i18n/index.js';

export const errorIdOf = (fieldId) => `${fieldId}-error`;

/** The aria-describedby value of a field: its error first, then its other descriptions. */
export function describedBy(fieldId, errors, ...otherIds) {
  const ids = [errors?.[fieldId] ? errorIdOf(fieldId) : null, ...otherIds].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

/** The error text under a field (nothing when it has none). */
export function fieldError(fieldId, errors, { testId = 'error' } = {}) {
  const error = errors?.[fieldId];
  if (!error) return nothing;
  return html`<p class="field-error" id=${errorIdOf(fieldId)} data-testid=${testId} data-field=${fieldId}>${t(error.key, error.params)}</p>`;
}

/**
 * Once `component` has rendered, focuses the first of `fieldIds` (in form order) that has an
 * error. A field that already has focus is blurred first, so a screen reader reads it again
 * with its new description.
 */
export async function focusFirstInvalid(component, fieldIds, errors) {
  await component.updateComplete;
  const first = fieldIds.find((id) => errors?.[id]);
  const field = first ? component.renderRoot.querySelector(`#${first}`) : null;
  if (!field) return;
  if (component.renderRoot.activeElement === field) field.blur();
  field.focus();
}
