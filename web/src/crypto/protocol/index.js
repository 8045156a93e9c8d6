// Façade of the secure-channel protocol core for the crypto Worker. Pure module: WebCrypto only,
// no DOM, no OpenPGP.js (signing and verification are injected), no logging.
//
//   const endpoint = createInitiator({ sessionId, localUsername, peerUsername, localFingerprint,
//                                      peerFingerprint, sign, verify })
//   const m1 = await endpoint.start()
//   const { reply: m3 } = await endpoint.receiveHandshake({ message: m2 })
//   const record = await endpoint.seal({ plaintext })             (sealSenderKey, sealCall: types 4, 5)
//   const { type, plaintext } = await endpoint.open({ record })
//
// Every function and method takes one options object; unknown options throw. Errors are
// ChannelError with a `reason` code (see errors.js) and a message prefixed with context.
export { ChannelError, ChannelErrorReason } from './errors.js';
export { SuiteId, detectPreferredSuite, supportedSuites, suiteParameters } from './suites.js';
export { PROTOCOL_VERSION, RECORD_LAYER_VERSION, CloseCode, Limits } from './encoding.js';
export { ChannelState, Role } from './state.js';
export { RecordType, Direction, MAX_RECORD_PLAINTEXT } from './records.js';
export { createRekeyPolicy, DEFAULT_REKEY_MAX_RECORDS, DEFAULT_REKEY_MAX_AGE_MS } from './rekey.js';
export { SAS_EMOJI } from './sas.js';
export { SecureChannelEndpoint, createInitiator, createResponder, awaitSecure } from './secure-channel.js';
