// Client of the SIP routes of the server API (docs/api.md "SIP"): the browser's short-lived
// credentials and the user's phone (device) credentials. Same-origin, cookie session, JSON;
// failures are ApiError with the server's code (not_enabled, invalid_label, too_many_devices…).

import { ApiError, createJsonRequest } from '../net/api-client.js';

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
  const request = createJsonRequest({ baseUrl, fetchImpl });

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
