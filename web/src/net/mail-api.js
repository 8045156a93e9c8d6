// Client of the server's mail API (/api/v1/mail, docs/api.md "Email"): one function per
// endpoint. Same-origin, cookies only; JSON bodies, raw messages (bytes or a Blob) as
// message/rfc822. Every failure is a MailApiError {code, message, status}; the uploads of big
// messages (append, send) report progress through XMLHttpRequest's upload events when a
// progress callback is given.

const base = '/api/v1/mail';
/** Largest raw message read back (a bit above the server's 25 MiB default plus its encoding). */
export const MAX_RAW_MESSAGE_BYTES = 40 * 1024 * 1024;

const codeByStatus = new Map([
  [400, 'bad_request'], [401, 'not_authenticated'], [403, 'forbidden'], [404, 'not_found'], [409, 'conflict'],
  [413, 'too_large'], [422, 'unprocessable'], [429, 'rate_limited'], [502, 'send_failed'], [503, 'mail_unavailable'], [504, 'timeout'],
]);

export class MailApiError extends Error {
  constructor({ status, code, message = '', cause, address = null }) {
    super(message || `mail API error ${status} ${code}`, cause ? { cause } : undefined);
    this.name = 'MailApiError';
    this.status = status;   // 0: no answer arrived
    this.code = code;
    this.serverMessage = message;
    if (address) this.address = address;
  }
}

function errorFromBody(status, body) {
  const error = body && typeof body === 'object' ? body.error : null;
  const code = typeof error?.code === 'string' && /^[a-z_]{1,64}$/.test(error.code) ? error.code : codeByStatus.get(status) ?? `http_${status}`;
  const message = typeof error?.message === 'string' ? error.message.slice(0, 1000) : '';
  const address = typeof error?.address === 'string' ? error.address : null;
  return new MailApiError({ status, code, message, address });
}

const rawSize = (raw) => (raw instanceof Uint8Array ? raw.byteLength : raw.size);

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const item of value) search.append(name, String(item));
    else search.append(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * Options: { baseUrl = '', fetch = globalThis.fetch, XMLHttpRequest = globalThis.XMLHttpRequest }.
 */
export function createMailApi(options = {}) {
  for (const name of Object.keys(options)) {
    if (!['baseUrl', 'fetch', 'XMLHttpRequest'].includes(name)) throw new TypeError(`createMailApi: unknown option ${name}`);
  }
  const baseUrl = options.baseUrl ?? '';
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const Xhr = options.XMLHttpRequest ?? globalThis.XMLHttpRequest ?? null;

  async function call(method, path, { json, raw, accept = 'application/json' } = {}) {
    const init = { method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: accept } };
    if (json !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(json);
    } else if (raw !== undefined) {
      init.headers['Content-Type'] = 'message/rfc822';
      init.body = raw;
    }
    let response;
    try {
      response = await fetchImpl(`${baseUrl}${base}${path}`, init);
    } catch (cause) {
      throw new MailApiError({ status: 0, code: 'network', cause });
    }
    if (!response.ok) {
      let body = null;
      try {
        body = await response.json();
      } catch {
        body = null;
      }
      throw errorFromBody(response.status, body);
    }
    return response;
  }

  async function json(method, path, body) {
    const response = await call(method, path, { json: body });
    if (response.status === 204) return null;
    try {
      return await response.json();
    } catch (cause) {
      throw new MailApiError({ status: response.status, code: 'bad_response', cause });
    }
  }

  // Uploads with progress (XHR is the only browser API with upload progress events).
  function upload(path, raw, onProgress) {
    if (!onProgress || !Xhr) return rawPost(path, raw);
    return new Promise((resolve, reject) => {
      const xhr = new Xhr();
      xhr.open('POST', `${baseUrl}${base}${path}`);
      xhr.setRequestHeader('Content-Type', 'message/rfc822');
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : rawSize(raw));
      xhr.onerror = () => reject(new MailApiError({ status: 0, code: 'network' }));
      xhr.ontimeout = () => reject(new MailApiError({ status: 0, code: 'network' }));
      xhr.onload = () => {
        let body = null;
        try {
          body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch {
          body = null;
        }
        if (xhr.status >= 200 && xhr.status < 300) resolve(body);
        else reject(errorFromBody(xhr.status, body));
      };
      xhr.send(raw);
    });
  }

  async function rawPost(path, raw) {
    const response = await call('POST', path, { raw });
    if (response.status === 204) return null;
    try {
      return await response.json();
    } catch (cause) {
      throw new MailApiError({ status: response.status, code: 'bad_response', cause });
    }
  }

  // A Blob (a message with a large attachment, made of Blob parts) is sent as it is: XHR and
  // fetch read it from the browser's Blob storage, the page never copies it.
  const checkRaw = (raw) => {
    if (!(raw instanceof Uint8Array) && !(typeof Blob !== 'undefined' && raw instanceof Blob)) throw new TypeError('mail API: the message must be a Uint8Array or a Blob');
  };

  return Object.freeze({
    status: () => json('GET', '/status'),
    folders: () => json('GET', '/folders'),
    createFolder: (path) => json('POST', '/folders', { path }).then((body) => body?.folder ?? null),
    renameFolder: (path, newPath) => json('POST', '/folders/rename', { path, new_path: newPath }),
    deleteFolder: (path) => json('POST', '/folders/delete', { path }),
    subscribe: (path, subscribed) => json('POST', '/folders/subscribe', { path, subscribed: Boolean(subscribed) }),
    /** params: { folder, sort, order, offset, limit, threads, q, from, to, subject, body, text, since, before, flags }. */
    messages: (params) => json('GET', `/messages${query(params)}`),
    /** The raw RFC 5322 bytes (never marks \Seen); refused above MAX_RAW_MESSAGE_BYTES. */
    async rawMessage(folder, uid) {
      const response = await call('GET', `/message${query({ folder, uid })}`, { accept: 'message/rfc822' });
      const length = Number(response.headers?.get?.('Content-Length'));
      if (Number.isFinite(length) && length > MAX_RAW_MESSAGE_BYTES) throw new MailApiError({ status: response.status, code: 'too_large' });
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (bytes.byteLength > MAX_RAW_MESSAGE_BYTES) throw new MailApiError({ status: response.status, code: 'too_large' });
      return bytes;
    },
    setFlags: ({ folder, uids, add = [], remove = [] }) => json('POST', '/flags', { folder, uids, add, remove }),
    move: ({ folder, uids, to, copy = false }) => json('POST', '/move', { folder, uids, to, copy: Boolean(copy) }),
    /** Moves to Trash (expunged there); permanent: true expunges at once in any folder (superseded drafts). */
    remove: ({ folder, uids, permanent = false }) => json('POST', '/delete', { folder, uids, ...(permanent ? { permanent: true } : {}) }),
    empty: (folder) => json('POST', '/empty', { folder }),
    markRead: (folder) => json('POST', '/mark-read', { folder }),
    /** → { uid } (null without APPENDUID). */
    append(folder, raw, flags = [], { onProgress } = {}) {
      checkRaw(raw);
      return upload(`/append${query({ folder, flags: flags.join(',') })}`, raw, onProgress);
    },
    /** → { sent, sent_uid, refused }. `to`: every envelope recipient (To, Cc and Bcc). */
    send({ raw, to, draftUid, onProgress }) {
      checkRaw(raw);
      return upload(`/send${query({ to, draft_uid: draftUid })}`, raw, onProgress);
    },
    setAccount: (fields) => json('PUT', '/account', fields),
    clearAccount: () => json('DELETE', '/account'),
  });
}
