// Styles shared by several components (constructable stylesheets: allowed under
// style-src 'self' since no <style> element or attribute is involved).

import { css } from 'lit';

export const controlStyles = css`
  :host { font-family: var(--font-sans); color: var(--color-text); box-sizing: border-box; }
  /* The page's global box-sizing does not reach into shadow roots: without this, width: 100%
     plus padding overflows a 320 px screen. */
  *, *::before, *::after { box-sizing: border-box; }

  [hidden] { display: none !important; }

  .visually-hidden {
    position: absolute; width: 1px; height: 1px; overflow: hidden;
    clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap;
  }

  button, input, select { font: inherit; color: inherit; }

  :focus-visible { outline: 2px solid var(--color-focus); outline-offset: 2px; }

  .button {
    display: inline-flex; align-items: center; justify-content: center; gap: var(--space-2);
    min-height: 40px; padding: 0 var(--space-4);
    border: 1px solid transparent; border-radius: var(--radius-m);
    background: var(--color-accent); color: var(--color-accent-text);
    font-weight: 600; text-decoration: none; cursor: pointer;
    transition: background-color 120ms ease;
  }
  .button:hover { background: var(--color-accent-hover); }
  .button[disabled] { opacity: 0.6; cursor: progress; }
  /* Unavailable but still focusable, so keyboard users reach it and hear why (its description). */
  .button[aria-disabled="true"] { opacity: 0.6; cursor: not-allowed; }
  .button.secondary {
    background: var(--color-surface); color: var(--color-text); border-color: var(--color-border);
  }
  .button.secondary:hover { background: var(--color-surface-hover); }
  .button.danger { background: var(--color-danger); color: var(--color-danger-text); }
  .button.danger:hover { background: var(--color-danger-hover); }
  .button.full { width: 100%; }

  .link { color: var(--color-accent); font-weight: 500; }

  .field { display: flex; flex-direction: column; gap: var(--space-1); margin-bottom: var(--space-4); }
  .field label { font-weight: 600; font-size: 0.9rem; }
  .field .hint { color: var(--color-text-muted); font-size: 0.82rem; }
  .field input[type="text"], .field input[type="password"] {
    height: 42px; padding: 0 var(--space-3);
    border: 1px solid var(--color-border); border-radius: var(--radius-m);
    background: var(--color-surface-2);
  }
  .field input:focus-visible { outline: 2px solid var(--color-focus); outline-offset: 0; border-color: transparent; }
  .field input[aria-invalid="true"] { border-color: var(--color-danger); }
  .field-error { margin: 0; color: var(--color-danger); font-size: 0.85rem; font-weight: 600; }
  .checkbox { display: flex; gap: var(--space-2); align-items: flex-start; margin-bottom: var(--space-4); }
  .checkbox input { margin-top: 3px; }

  .message {
    margin: 0 0 var(--space-4); padding: var(--space-3) var(--space-4);
    border-radius: var(--radius-m); font-size: 0.92rem;
  }
  .message.error { background: var(--color-danger-soft); color: var(--color-danger); }
  .message.success { background: var(--color-success-soft); color: var(--color-success); }
  .message.info { background: var(--color-accent-soft); color: var(--color-text); }
`;

// Chat markup (web/src/ui/chat-markup.js): the named BBCode colours as classes (no style
// attribute), quotes with their "name wrote:" label on a line of its own, code, emoji.
export const chatMarkupStyles = css`
  .chat-color-gray { color: gray; }
  .chat-color-silver { color: silver; }
  .chat-color-white { color: white; }
  .chat-color-yellow { color: yellow; }
  .chat-color-orange { color: orange; }
  .chat-color-red { color: red; }
  .chat-color-fuchsia { color: fuchsia; }
  .chat-color-purple { color: purple; }
  .chat-color-navy { color: navy; }
  .chat-color-blue { color: blue; }
  .chat-color-aqua { color: aqua; }
  .chat-color-teal { color: teal; }
  .chat-color-green { color: green; }
  .chat-color-lime { color: lime; }
  .chat-color-olive { color: olive; }
  .chat-color-maroon { color: maroon; }
  .chat-color-black { color: black; }
  .chat-quote { margin: var(--space-1) 0; padding: 2px var(--space-2); border-left: 3px solid var(--color-border); color: var(--color-text-muted); }
  .chat-quote-cite { display: block; font-size: 0.8rem; font-weight: 600; }
  .chat-code { font-family: var(--font-mono); font-size: 0.9em; background: var(--color-surface-hover); border-radius: var(--radius-s); padding: 0 3px; }
  pre.chat-code { padding: var(--space-2); margin: var(--space-1) 0; white-space: pre-wrap; }
  .chat-emoji { font-size: 1.15em; }
  .chat-link { color: var(--color-accent); }
`;
