// OpenPGP.js adapter for the secure-channel protocol (docs/protocol.md §4, §12): the sign and
// verify functions the handshake needs, bound to the own private key and to the peer's
// ACCEPTED certificate. Worker side; also runs in Node for the tests.

import * as openpgp from 'openpgp';

/** sign(data) → detached binary OpenPGP signature over the exact bytes (literal data, binary). */
export function createOpenpgpSigner({ privateKey }) {
  if (!privateKey?.isPrivate?.() || !privateKey.isDecrypted()) throw new TypeError('createOpenpgpSigner: an unlocked private key is required');
  return async (data) => openpgp.sign({
    message: await openpgp.createMessage({ binary: data }),
    signingKeys: privateKey,
    detached: true,
    format: 'binary',
  });
}

/**
 * verify({data, signature}) → true only when the signature verifies with a key of the accepted
 * certificate AND that certificate's fingerprint is the one the user accepted. Anything else —
 * another signer, a bad signature, unreadable input — is false (fail-closed).
 */
export function createOpenpgpVerifier({ certificate, fingerprint }) {
  if (!certificate || certificate.isPrivate?.()) throw new TypeError('createOpenpgpVerifier: a public certificate is required');
  if (typeof fingerprint !== 'string' || fingerprint.length === 0) throw new TypeError('createOpenpgpVerifier: the accepted fingerprint is required');
  const accepted = fingerprint.toLowerCase();
  return async ({ data, signature }) => {
    try {
      if (certificate.getFingerprint().toLowerCase() !== accepted) return false;
      const { signatures } = await openpgp.verify({
        message: await openpgp.createMessage({ binary: data }),
        signature: await openpgp.readSignature({ binarySignature: signature }),
        verificationKeys: certificate,
        expectSigned: true,
      });
      if (signatures.length !== 1) return false;
      await signatures[0].verified; // throws unless valid and made by a key of `certificate`
      return true;
    } catch {
      return false;
    }
  };
}
