// Crypto Worker (runs as a module worker, never in the page). This is the "local proxy" of
// DESIGN.md §2: key material will live only here, and the page talks to it with typed
// messages. For now it answers the health check; later messages add the secure channel.
//
// No console calls in this folder: nothing here may ever print key bytes.

const handlers = Object.freeze({
  health: () => ({ type: 'health', ok: true }),
});

self.addEventListener('message', (event) => {
  const request = event.data;
  const id = request && typeof request === 'object' ? request.id : undefined;
  const handler = request && typeof request.type === 'string' && Object.hasOwn(handlers, request.type)
    ? handlers[request.type]
    : null;
  let reply;
  if (!handler) {
    reply = { type: 'error', error: { code: 'unknown_type', message: 'unknown request type' } };
  } else {
    try {
      reply = handler(request);
    } catch (error) {
      // Only the error's name crosses the boundary: a message could quote secret input.
      reply = { type: 'error', error: { code: 'failed', message: String(error?.name ?? 'Error') } };
    }
  }
  self.postMessage(id === undefined ? reply : { ...reply, id });
});
