// Styles shared by the Email tab's components (constructable stylesheets, like ../shared-styles.js).

import { css } from 'lit';

export const mailStyles = css`
  .toolbar { display: flex; flex-wrap: wrap; gap: var(--space-1); align-items: center; }
  .tool {
    display: inline-flex; align-items: center; gap: var(--space-1); min-height: 36px; padding: 0 var(--space-2);
    border: 1px solid transparent; border-radius: var(--radius-m); background: transparent; color: var(--color-text);
    cursor: pointer; font-size: 0.88rem;
  }
  .tool:hover { background: var(--color-surface-hover); }
  .tool[disabled] { opacity: 0.45; cursor: default; }
  .tool[aria-pressed="true"] { background: var(--color-accent-soft); }
  .tool.primary { background: var(--color-accent); color: var(--color-accent-text); font-weight: 600; }
  .tool.primary:hover { background: var(--color-accent-hover); }
  .badge { min-width: 1.5em; padding: 0 6px; border-radius: 999px; background: var(--color-accent); color: var(--color-accent-text); font-size: 0.75rem; font-weight: 700; text-align: center; }
  .muted { color: var(--color-text-muted); }
  .small { font-size: 0.85rem; }
  dialog { border: 1px solid var(--color-border); border-radius: var(--radius-l); background: var(--color-surface); color: var(--color-text); max-width: min(40rem, calc(100vw - 2rem)); padding: var(--space-4); }
  dialog::backdrop { background: rgb(0 0 0 / 0.4); }
  dialog h2 { margin: 0 0 var(--space-3); font-size: 1.05rem; }
  .dialog-actions { display: flex; flex-wrap: wrap; gap: var(--space-2); justify-content: flex-end; margin-top: var(--space-3); }
  .field select, .field textarea, .field input[type="number"], .field input[type="date"], .field input[type="email"], .field input[type="search"] {
    min-height: 38px; padding: 0 var(--space-2); border: 1px solid var(--color-border); border-radius: var(--radius-m); background: var(--color-surface-2);
  }
  .field textarea { padding: var(--space-2); min-height: 6rem; font: inherit; color: inherit; }
  .grid-form { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 12rem), 1fr)); gap: 0 var(--space-3); }
  .card { background: var(--color-surface); border: 1px solid var(--color-border); border-radius: var(--radius-l); padding: var(--space-4); }
  h2.section { font-size: 1rem; margin: 0 0 var(--space-3); }
  pre.source { max-height: 60vh; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; font-family: var(--font-mono); font-size: 0.8rem; }
  table.keys { border-collapse: collapse; }
  table.keys th, table.keys td { text-align: left; padding: 2px var(--space-3) 2px 0; vertical-align: top; }
  kbd { font-family: var(--font-mono); border: 1px solid var(--color-border); border-radius: var(--radius-s); padding: 0 4px; }
`;
