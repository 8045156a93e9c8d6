// A TCP relay on loopback in front of a companion's port (Dovecot's IMAP in the mail tests) that
// holds every answer of the target back for `relay.delayMs` (in order, settable at any time):
// a request then keeps the mailbox busy long enough for a delivery to land in the middle of it,
// or for the server's own deadlines to pass. `relay.connections` counts the connections made.

import net from 'node:net';
import { freePort } from './secms-server.mjs';

export async function slowRelay(targetPort) {
  const port = await freePort();
  const relay = { port, delayMs: 0, connections: 0 };
  const server = net.createServer((client) => {
    relay.connections += 1;
    const upstream = net.connect(targetPort, '127.0.0.1');
    let last = 0;
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.on('data', (chunk) => {
      const at = Math.max(last, Date.now() + relay.delayMs);
      last = at;
      setTimeout(() => client.writable && client.write(chunk), at - Date.now());
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  relay.close = () => new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
  return relay;
}
