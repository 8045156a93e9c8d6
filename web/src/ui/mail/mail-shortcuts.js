// Keyboard shortcuts of the Email tab (pure: maps a key event to an action name). They are off
// while the user types in a field, and with Ctrl/Alt/Meta held (bar Ctrl+A, the list's own).

/** [key description for the help dialog, action, i18n key of what it does] */
export const mailShortcuts = Object.freeze([
  ['j', 'next', 'mail.keys.next'],
  ['k', 'previous', 'mail.keys.previous'],
  ['Enter / o', 'open', 'mail.keys.open'],
  ['r', 'reply', 'mail.keys.reply'],
  ['a', 'reply_all', 'mail.keys.reply_all'],
  ['f', 'forward', 'mail.keys.forward'],
  ['c', 'compose', 'mail.keys.compose'],
  ['Delete / #', 'delete', 'mail.keys.delete'],
  ['u', 'mark_unread', 'mail.keys.mark_unread'],
  ['Shift+I', 'mark_read', 'mail.keys.mark_read'],
  ['s', 'flag', 'mail.keys.flag'],
  ['/', 'search', 'mail.keys.search'],
  ['?', 'help', 'mail.keys.help'],
]);

const byKey = Object.freeze({
  j: 'next', k: 'previous', o: 'open', Enter: 'open', r: 'reply', a: 'reply_all', f: 'forward',
  c: 'compose', Delete: 'delete', '#': 'delete', u: 'mark_unread', I: 'mark_read', s: 'flag',
  '/': 'search', '?': 'help',
});

/** True when the event comes from a place where keys are text (inputs, editors, selects). */
export function isTypingTarget(path) {
  return (Array.isArray(path) ? path : []).some((node) => {
    const tag = String(node?.tagName ?? '').toLowerCase();
    return tag === 'input' || tag === 'textarea' || tag === 'select' || node?.isContentEditable === true
      || node?.getAttribute?.('role') === 'combobox';
  });
}

/** The action of a keydown ({key, ctrlKey, altKey, metaKey, shiftKey}, composedPath) or null. */
export function shortcutAction(event, path = []) {
  if (!event || event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return null;
  if (isTypingTarget(path)) return null;
  if (event.key === 'I' && !event.shiftKey) return null;
  if (event.key === 'Enter') {
    // Enter on a button or link is that control's own action.
    const tag = String(path[0]?.tagName ?? '').toLowerCase();
    if (tag === 'button' || tag === 'a') return null;
  }
  return byKey[event.key] ?? null;
}
