// Where keyboard focus is, followed through the Lit components' shadow roots (Playwright's
// locators pierce them, document.activeElement does not: it stops at the outermost host).

/** The focused element, deep: { tag, id, testid, text, role, disabled } or null (nothing / <body>). */
export async function focusedElement(page) {
  return page.evaluate(() => {
    let active = document.activeElement;
    while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
    if (!active || active === document.body || active === document.documentElement) return null;
    return {
      tag: active.localName,
      id: active.id || null,
      testid: active.dataset?.testid ?? null,
      text: (active.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 120),
      role: active.getAttribute('role'),
      disabled: active.disabled === true,
    };
  });
}

const describe = (element) => (element ? `<${element.tag}${element.id ? ` id=${element.id}` : ''}${element.testid ? ` data-testid=${element.testid}` : ''}> "${element.text.slice(0, 40)}"` : '<body>');

/**
 * Waits until the focused element matches `want` ({ testid } or { id }, or a predicate over
 * focusedElement's answer); resolves it. Fails naming what had focus instead.
 */
export async function waitForFocus(page, want, { timeoutMs = 15_000, what = JSON.stringify(want) } = {}) {
  const matches = typeof want === 'function' ? want
    : (element) => Boolean(element) && Object.entries(want).every(([key, value]) => element[key] === value);
  const deadline = Date.now() + timeoutMs;
  let seen = null;
  while (Date.now() < deadline) {
    seen = await focusedElement(page);
    if (matches(seen)) return seen;
    await page.waitForTimeout(50);
  }
  throw new Error(`focus: expected ${what}, found ${describe(seen)}`);
}

/**
 * Starts recording every element that holds focus (deep), for focus that passes quickly. Polled:
 * a focusin event does not leave a shadow root when focus moves inside it (the target and the
 * related target retarget to the same host), so document listeners miss those moves.
 */
export async function recordFocus(page) {
  await page.evaluate(() => {
    window.__secmsFocusLog = [];
    let last = null;
    setInterval(() => {
      let active = document.activeElement;
      while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
      if (active === last) return;
      last = active;
      if (!active || active === document.body) return;
      window.__secmsFocusLog.push({ testid: active.dataset?.testid ?? null, id: active.id || null, text: (active.textContent ?? '').trim().slice(0, 120) });
    }, 2);
  });
}

/** The elements that received focus since recordFocus, in order. */
export async function focusLog(page) {
  return page.evaluate(() => window.__secmsFocusLog ?? []);
}
