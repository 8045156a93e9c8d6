// Styles shared by several components (constructable stylesheets: allowed under
// style-src 'self' since no <style> element or attribute is involved).

import { css } from 'lit';

export const controlStyles = css`
  :host { font-family: var(--font-sans); color: var(--color-text); }

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
  .button.secondary {
    background: var(--color-surface); color: var(--color-text); border-color: var(--color-border);
  }
  .button.secondary:hover { background: var(--color-surface-hover); }
  .button.danger { background: var(--color-danger); color: #fff; }
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
