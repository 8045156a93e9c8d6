// User actions in the Email tab for the mail browser tests, the way a user meets them (roles,
// visible text) with the data-testid hooks of web/src/ui/mail/ where text would be ambiguous.
// Every hook name the tests rely on is in this file, so a renamed hook is fixed in one place.

import { createIdentityInApp, registeredUser, requestChannelWith, waitForChannelState } from '../../e2e/helpers/app-flows.mjs';

/**
 * Records, in every page and frame (before their own scripts): what a hostile mail's payload
 * would do (window.__mailXss set, "secms-xss:<id>" posted to the parent), dialogs opened, and
 * the mail frame's own messages to the page ("rendered" counts). Read with mailTrapsOf(page).
 */
export const mailTraps = () => {
  window.__mailXssHeard = [];
  window.__mailFrameRendered = 0;
  window.__mailDialogs = 0;
  for (const name of ['alert', 'prompt', 'confirm']) {
    const original = window[name];
    window[name] = (...args) => { window.__mailDialogs += 1; return name === 'confirm' && original ? original.apply(window, args) : undefined; };
  }
  window.addEventListener('message', (event) => {
    const data = event.data;
    if (typeof data === 'string' && data.startsWith('secms-xss:')) window.__mailXssHeard.push(data.slice(10));
    if (data && typeof data === 'object' && data.type === 'rendered') window.__mailFrameRendered += 1;
  }, true);
};

/** What the traps recorded in the page and in every frame of it. */
export async function mailTrapsOf(page) {
  const top = await page.evaluate(() => ({ heard: window.__mailXssHeard, rendered: window.__mailFrameRendered, dialogs: window.__mailDialogs, flag: window.__mailXss ?? null }));
  const frameFlags = [];
  for (const frame of page.frames()) {
    if (frame === page.mainFrame()) continue;
    const flag = await frame.evaluate(() => window.__mailXss ?? null).catch(() => null);
    if (flag !== null) frameFlags.push(flag);
  }
  return { ...top, frameFlags };
}

/**
 * A registered user with an OpenPGP identity (name, address `<username>@<domain>`) and the
 * Email tab open. Resolves { context, problems, app, username, address, fingerprint }.
 */
export async function mailUser(t, stack, browser, prefix, { initScript = mailTraps, identity = true } = {}) {
  const user = await registeredUser(t, browser, stack.origin, prefix, { initScript });
  const address = stack.address(user.username);
  let fingerprint = null;
  if (identity) fingerprint = await createIdentityInApp(user.app, { name: prefix[0].toUpperCase() + prefix.slice(1), email: address });
  await openEmailTab(user.app);
  return { ...user, address, fingerprint };
}

/**
 * Makes two users know each other's keys the product's real way: a secure channel accepted
 * on both sides with "remember this certificate" (the pin the key directory uses for
 * username@domain).
 */
export async function exchangeKeysByChannel(a, b) {
  for (const user of [a, b]) await user.app.getByTestId('tab-chat').click();
  await requestChannelWith(a.app, b.username);
  // Both sides review the other's certificate and accept it, remembering it (the pin).
  for (const user of [a, b]) {
    await user.app.getByTestId('peer-report').waitFor({ timeout: 20_000 });
    await user.app.getByTestId('remember-certificate').check();
    await user.app.getByTestId('channel-accept').click();
  }
  await Promise.all([waitForChannelState(a.app, 'secure'), waitForChannelState(b.app, 'secure')]);
  for (const user of [a, b]) await openEmailTab(user.app);
}

/**
 * Opens the Email tab and waits until it has settled: the folders are listed, the list has
 * loaded and the mail connection is up. Mail delivered after this reaches the open list by push
 * (mail_new); mail delivered while the tab's first requests still run may only be seen by the
 * server's re-SELECT before IDLE and never pushed (see the report of the mail browser suite).
 */
export async function openEmailTab(app) {
  await app.getByTestId('tab-email').click();
  await app.locator('[data-testid=panel-email] [data-testid=mail-folder][data-path=INBOX]').waitFor({ timeout: 15_000 });
  await waitForListLoaded(app);
  await waitForMailConnected(app);
}

// --- folders ---------------------------------------------------------------------------------

export const folderEntry = (app, path) => app.locator(`[data-testid=mail-folder][data-path="${path}"]`);

/**
 * Opens a folder and waits until its list has loaded: the folder is the current one and the
 * list is no longer busy (the store's loading flag, aria-busy), so its rows and data-total are
 * the server's answer for this folder, not the empty list of the moment the folder was chosen.
 */
export async function openFolder(app, path) {
  await folderEntry(app, path).first().click();
  await app.locator(`[data-testid=mail-folder][data-path="${path}"][aria-current=true]`).waitFor({ timeout: 10_000 });
  await waitForListLoaded(app);
}

/**
 * Waits until the message list has no fetch in flight (aria-busy="false"). A search, a folder
 * change or a pushed reload sets it busy in the same task that starts the fetch, so after the
 * action that started one, this waits for its answer.
 */
export async function waitForListLoaded(app, timeoutMs = 20_000) {
  await app.locator('[data-testid=mail-list][aria-busy=false]').waitFor({ timeout: timeoutMs });
}

/** Waits until the status line says the mail server connection is up (mail_status connected). */
export async function waitForMailConnected(app, timeoutMs = 20_000) {
  await app.locator('[data-testid=mail-status][data-connection=connected]').waitFor({ timeout: timeoutMs });
}

/** Polls `check` (→ true, or a value that describes what is still wrong) until it is true. */
export async function eventually(check, what, timeoutMs = 10_000, everyMs = 150) {
  const started = Date.now();
  let last;
  for (;;) {
    last = await check();
    if (last === true) return;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

// --- the message list ------------------------------------------------------------------------

export const messageRows = (app) => app.locator('[data-testid=mail-row]');
export const messageRow = (app, text) => messageRows(app).filter({ hasText: text }).first();

/** Waits for a row whose text contains `text` (a subject, or "Encrypted message"). */
export async function waitForRow(app, text, timeoutMs = 20_000) {
  const row = messageRow(app, text);
  await row.waitFor({ timeout: timeoutMs });
  return row;
}

/** Opens the row containing `text` (null: the first row) and waits for the reader to show the message. */
export async function openRow(app, text, { timeoutMs = 20_000 } = {}) {
  const row = text === null ? messageRows(app).first() : await waitForRow(app, text, timeoutMs);
  if (text === null) await row.waitFor({ timeout: timeoutMs });
  return openThisRow(app, row, { timeoutMs });
}

/** Clicks a row (a locator) and waits until the reader shows that message (its uid) or an error. */
export async function openThisRow(app, row, { timeoutMs = 20_000 } = {}) {
  const uid = await row.getAttribute('data-uid');
  await row.click();
  await app.locator(`[data-testid=mail-reader][data-uid="${uid}"], [data-testid=mail-reader-error]`).first().waitFor({ timeout: timeoutMs });
  return row;
}

/** Quick search (sender or subject) for `query`, then opens the row containing `text` (default: the query). */
export async function findAndOpen(app, query, text = query, options = {}) {
  const search = app.getByTestId('mail-quick-search');
  await search.fill(query);
  await search.press('Enter');
  await waitForListLoaded(app);
  return openRow(app, text, options);
}

/** The reader's security banner as data: { signature, encrypted, signer, error }. */
export async function securityOf(app) {
  const banner = app.getByTestId('mail-security');
  await banner.waitFor({ timeout: 10_000 });
  return banner.evaluate((node) => ({
    signature: node.dataset.signature ?? null,
    encrypted: node.dataset.encrypted ?? null,
    signer: node.dataset.signer ?? null,
    error: node.dataset.error ?? null,
    text: node.textContent.replace(/\s+/g, ' ').trim(),
  }));
}

export const readerSubject = (app) => app.getByTestId('mail-subject');
export const readerBody = (app) => app.getByTestId('mail-text');
export const attachmentEntries = (app) => app.locator('[data-testid=mail-attachments] li');

/** Clicks an attachment's download button; resolves { filename, bytes (Buffer) }. */
export async function downloadAttachment(app, filename) {
  const entry = attachmentEntries(app).filter({ hasText: filename }).first();
  const download = app.waitForEvent('download');
  await entry.getByTestId('mail-attachment-download').click();
  const file = await download;
  const stream = await file.createReadStream();
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return { filename: file.suggestedFilename(), bytes: Buffer.concat(chunks) };
}

// --- compose ---------------------------------------------------------------------------------

/** The open compose form (the toolbar's Compose button shares its data-testid). */
export const composeForm = (app) => app.locator('[data-testid=mail-compose][data-draft]');

/** Opens a new compose form (toolbar button). */
export async function startCompose(app) {
  await app.locator('button[data-testid=mail-compose]').click();
  await composeForm(app).waitFor();
}

/** Adds recipients as chips in a field ('to', 'cc', 'bcc'); Tab takes the typed text as it is. */
export async function addRecipients(app, field, addresses) {
  const input = app.getByTestId(`compose-${field}-input`);
  for (const address of [].concat(addresses)) {
    await input.fill(address);
    await input.press('Tab');
    await app.locator(`[data-testid=compose-${field}] [data-testid=compose-chip][data-address="${address}"]`).waitFor({ timeout: 5_000 });
  }
}

export const composeSubject = (app) => app.getByTestId('compose-subject');
export const composeBody = (app) => app.locator('textarea[data-testid=compose-body]');

/** Fills a compose form; attachments are [{ name, mimeType, buffer }]. */
export async function fillCompose(app, { to = [], cc = [], bcc = [], subject, text, attachments = [] }) {
  if (to.length) await addRecipients(app, 'to', to);
  if (cc.length) await addRecipients(app, 'cc', cc);
  if (bcc.length) await addRecipients(app, 'bcc', bcc);
  if (subject !== undefined) await composeSubject(app).fill(subject);
  if (text !== undefined) await composeBody(app).fill(text);
  if (attachments.length) {
    await app.getByTestId('compose-files').setInputFiles(attachments);
    await app.locator('[data-testid=compose-attachments] li').nth(attachments.length - 1).waitFor({ timeout: 10_000 });
  }
}

/** Presses Send; resolves 'sent' | 'confirm' (the unencrypted confirmation is shown) | 'error'. */
export async function pressSend(app, timeoutMs = 30_000) {
  await app.getByTestId('compose-send').click();
  return Promise.race([
    composeForm(app).waitFor({ state: 'detached', timeout: timeoutMs }).then(() => 'sent'),
    app.locator('[data-testid=compose-confirm][open]').waitFor({ timeout: timeoutMs }).then(() => 'confirm'),
    app.getByTestId('compose-error').waitFor({ timeout: timeoutMs }).then(() => 'error'),
  ]);
}

/**
 * Send, confirming the unencrypted send when asked; throws with the form's error unless the
 * form closed (sent).
 */
export async function sendConfirmingUnencrypted(app, timeoutMs = 30_000) {
  let outcome = await pressSend(app, timeoutMs);
  if (outcome === 'confirm') {
    await app.getByTestId('compose-confirm-send').click();
    outcome = await Promise.race([
      composeForm(app).waitFor({ state: 'detached', timeout: timeoutMs }).then(() => 'sent'),
      app.getByTestId('compose-error').waitFor({ timeout: timeoutMs }).then(() => 'error'),
    ]);
  }
  // The error text is read only when there is one: textContent() on a missing element waits.
  if (outcome !== 'sent') throw new Error(`send ended as ${outcome}: ${await app.getByTestId('compose-error').textContent({ timeout: 1000 }).catch(() => '')}`);
}

export async function composeAndSend(app, fields) {
  await startCompose(app);
  await fillCompose(app, fields);
  const outcome = await pressSend(app);
  if (outcome !== 'sent') {
    const error = await app.getByTestId('compose-error').textContent().catch(() => '');
    const missing = await app.getByTestId('compose-confirm-missing').allTextContents().catch(() => []);
    throw new Error(`send ended as ${outcome} ${error} ${missing.join(', ')}`);
  }
}

/** Reply / reply all / forward / forward as attachment on the open message (toolbar). */
export async function replyToOpen(app, mode = 'reply') {
  const testid = { reply: 'mail-reply', reply_all: 'mail-reply-all', forward: 'mail-forward', 'forward-attachment': 'mail-forward-attachment' }[mode];
  await toolbarAction(app, testid.slice('mail-'.length));
  await composeForm(app).waitFor();
}

/** Toolbar actions on the selection. */
export const toolbarButton = (app, name) => app.getByTestId(`mail-${name}`);

/**
 * Runs a toolbar action by name ('mark-all-read', 'empty', 'archive', …): its button when the
 * toolbar shows one, else the item of the "More actions" menu (the less-used actions, and on a
 * narrow window all but the first few).
 */
export async function toolbarAction(app, name) {
  const button = app.locator(`[role=toolbar] > [data-testid="mail-${name}"]`);
  if (await button.isVisible()) {
    await button.click();
    return;
  }
  await app.getByTestId('mail-more').click();
  await app.locator(`#mail-more-menu [data-testid="mail-${name}"]`).click();
}

/** The status line (connection state and errors). */
export const statusLine = (app) => app.getByTestId('mail-status');

/** Renames or deletes a (non-special) folder with the buttons beside it. */
export async function folderAction(app, path, action, newName) {
  const item = folderEntry(app, path).locator('xpath=..');
  await item.getByRole('button', { name: new RegExp(`^${action === 'rename' ? 'Rename' : 'Delete'}`) }).click();
  if (action === 'rename') await app.getByTestId('mail-folder-name').fill(newName);
  await app.getByTestId('mail-folder-submit').click();
}

// --- keys --------------------------------------------------------------------------------------

/** The own public key as the Chat tab's export shows it (armored). */
export async function exportOwnKey(app) {
  await app.getByTestId('tab-chat').click();
  await app.getByTestId('own-identity-entry').click().catch(() => {});
  await app.getByTestId('identity-export').click();
  const text = app.getByTestId('identity-export-text');
  await app.waitForFunction(() => true);
  let armored = '';
  const started = Date.now();
  while (!armored.includes('END PGP PUBLIC KEY BLOCK') && Date.now() - started < 10_000) {
    armored = await text.inputValue();
    if (!armored.includes('END PGP PUBLIC KEY BLOCK')) await app.waitForTimeout(100);
  }
  if (!armored.includes('BEGIN PGP PUBLIC KEY BLOCK')) throw new Error('the own key export showed no public key');
  await openEmailTab(app);
  return armored;
}

/** Adds a contact with an OpenPGP key pasted in the address book, then goes back to the mail. */
export async function importContactKey(app, { name, email, armored }) {
  await app.getByTestId('mail-contacts').click();
  await app.getByTestId('contact-add').click();
  await app.locator('#contact-name').fill(name);
  await app.getByTestId('contact-emails').fill(email);
  await app.locator('#contact-key').fill(armored);
  await app.getByTestId('contact-save').click();
  const error = app.getByTestId('contact-error');
  await app.getByTestId('contact').filter({ hasText: email }).or(error).first().waitFor({ timeout: 10_000 });
  if (await error.isVisible()) throw new Error(`contact not saved: ${await error.textContent()}`);
  await app.getByTestId('mail-back-to-mail').click();
}
