// Periodic re-key with a fresh ECDH inside the channel (post-compromise healing).
//
// Either side may start: it sends a "rekey" record carrying {request, epoch n+1, fresh public
// key}. The other side answers with {response, epoch n+1, its fresh public key} as its last
// record of epoch n and switches its sending direction to epoch n+1 at once; the requester
// switches both directions when it reads the response; the answerer switches its receiving
// direction when the first epoch n+1 record arrives. Sequence numbers restart at 0 per epoch,
// and the epoch is in every record header and hence in the AAD.
//
// Simultaneous requests: the channel initiator's request wins; the responder abandons its own
// request and answers (the initiator ignores the responder's request).
import { ChannelError } from './errors.js';
import { checkOptions } from './bytes.js';

export const DEFAULT_REKEY_MAX_RECORDS = 1000;
export const DEFAULT_REKEY_MAX_AGE_MS = 10 * 60 * 1000;

/**
 * A policy is a pure function the caller consults (endpoint.rekeyDue()); it decides nothing by
 * itself, so tests and the Worker can drive re-keys deterministically.
 * @returns {(usage: {recordsSent:number, recordsReceived:number, epochAgeMs:number}) => boolean}
 */
export function createRekeyPolicy(options = {}) {
  checkOptions('createRekeyPolicy', options, ['maxRecords', 'maxAgeMs']);
  const { maxRecords = DEFAULT_REKEY_MAX_RECORDS, maxAgeMs = DEFAULT_REKEY_MAX_AGE_MS } = options;
  if (!Number.isInteger(maxRecords) || maxRecords < 1) throw new ChannelError('invalid_argument', 'maxRecords must be a positive integer');
  if (typeof maxAgeMs !== 'number' || !(maxAgeMs > 0)) throw new ChannelError('invalid_argument', 'maxAgeMs must be positive');
  const policy = ({ recordsSent, recordsReceived, epochAgeMs }) =>
    recordsSent + recordsReceived >= maxRecords || epochAgeMs >= maxAgeMs;
  return Object.freeze(Object.assign(policy, { maxRecords, maxAgeMs }));
}
