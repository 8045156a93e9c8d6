// Client of the SIP routes of the server API (docs/api.md "SIP"): the browser's short-lived
// credentials and the user's phone (device) credentials. Same-origin, cookie session, JSON;
// failures are ApiError with the server's code (not_enabled, invalid_label, too_many_devices…).

import { ApiError, networkErrorCode, parseRetryAfter } from '../net/api-client.js';

const deviceIdPattern = /^[0-9a-f]{16}$/;

function checkDevice(device) {
  if (!device || typeof device !== 'object' || typeof device.id !== 'string' || !deviceIdPattern.test(device.id)
    || typeof device.label !== 'string' || !Number.isSafeInteger(device.createdAt) || !Number.isSafeInteger(device.expiresAt)) {
    throw new ApiError({ status: 200, code: 'bad_response' });
  }
  return Object.freeze({ id: device.id, label: device.label, createdAt: device.createdAt, expiresAt: device.expiresAt });
}

function checkDeviceCredentials(credentials) {
  const text = (value) => typeof value === 'string' && value.length > 0 && value.length <= 300;
  const proxies = Array.isArray(credentials?.proxies) ? credentials.proxies : null;
  if (!credentials || !text(credentials.username) || !text(credentials.password) || !text(credentials.user) || !text(credentials.domain)
    || !text(credentials.aor) || !proxies || proxies.length > 8
    || !proxies.every((proxy) => ['udp', 'tcp', 'tls'].includes(proxy?.transport) && text(proxy?.address))) {
    throw new ApiError({ status: 201, code: 'bad_response' });
  }
  return Object.freeze({
    username: credentials.username, password: credentials.password, user: credentials.user, domain: credentials.domain, aor: credentials.aor,
    proxies: Object.freeze(proxies.map((proxy) => Object.freeze({ transport: proxy.transport, address: proxy.address }))),
  });
}

/** Options: { baseUrl = '', fetchImpl = globalThis.fetch }. */
export function createSipApi({ baseUrl = '', fetchImpl = globalThis.fetch.bind(globalThis) } = {}) {
  async function request(method, path, body) {
    const init = { method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetchImpl(`${baseUrl}${path}`, init);
    } catch (cause) {
      throw new ApiError({ status: 0, code: networkErrorCode, cause });
    }
    if (response.status === 204) return null;
    let parsed = null;
    try {
      parsed = await response.json();
    } catch {
      parsed = null;
    }
    if (response.ok) {
      if (parsed === null) throw new ApiError({ status: response.status, code: 'bad_response' });
      return parsed;
    }
    const code = typeof parsed?.error === 'string' ? parsed.error : parsed?.error?.code;
    throw new ApiError({
      status: response.status,
      code: typeof code === 'string' && /^[a-z_]{1,64}$/.test(code) ? code : `http_${response.status}`,
      retryAfterSeconds: parseRetryAfter(response.headers?.get?.('Retry-After') ?? null),
    });
  }

  return Object.freeze({
    /** The raw /api/v1/sip answer (checked by sip-credentials.js where it is used). */
    credentials: () => request('GET', '/api/v1/sip'),
    async listDevices() {
      const body = await request('GET', '/api/v1/sip/devices');
      if (!Array.isArray(body?.devices)) throw new ApiError({ status: 200, code: 'bad_response' });
      return Object.freeze({ devices: Object.freeze(body.devices.map(checkDevice)), max: Number.isSafeInteger(body.max) ? body.max : 0 });
    },
    async addDevice(label) {
      const body = await request('POST', '/api/v1/sip/devices', { label });
      return Object.freeze({ device: checkDevice(body?.device), credentials: checkDeviceCredentials(body?.credentials) });
    },
    revokeDevice: (id) => {
      if (!deviceIdPattern.test(id)) return Promise.reject(new ApiError({ status: 0, code: 'not_found' }));
      return request('DELETE', `/api/v1/sip/devices/${id}`);
    },
  });
}
