// The server's certificate report against what the certificate says about itself (facts read
// by the crypto Worker, web/src/crypto/certificate-facts.js). Pure, page side.
//
// The report's name, email, fingerprint, expiry and subkeys are claims a hostile server could
// rewrite; the certificate's self-signatures cannot be forged by it. Any disagreement means the
// report cannot be trusted, so the offer is refused (no Accept) rather than shown.

/** Problems, in the order shown: i18n keys `report.problem.<code>`. */
export const ClaimProblem = Object.freeze({
  fingerprint: 'fingerprint',
  user_id: 'user_id',
  expiry: 'expiry',
  subkeys: 'subkeys',
  revoked: 'revoked',
  expired: 'expired',
  no_user_id: 'no_user_id',
  // Not a disagreement: the Worker refused to verify the certificate at all, because its keys
  // or counts exceed the limits of web/src/crypto/certificate-facts.js.
  too_costly: 'too_costly',
});

const upper = (value) => String(value ?? '').toUpperCase();
const same = (a, b) => String(a ?? '').trim() === String(b ?? '').trim();

/**
 * → { agrees, problems: [ClaimProblem] }. `report`: the server's certificate report (docs/
 * certificates.md); `facts`: readCertificateFacts() of the report's own `armored` field.
 */
export function compareReportWithFacts(report, facts) {
  const problems = [];
  if (!report || typeof report !== 'object' || !facts || typeof facts !== 'object') {
    return Object.freeze({ agrees: false, problems: Object.freeze([ClaimProblem.fingerprint]) });
  }
  if (upper(report.fingerprint) !== upper(facts.fingerprint)) problems.push(ClaimProblem.fingerprint);
  const userIds = Array.isArray(facts.userIds) ? facts.userIds : [];
  if (userIds.length === 0) {
    problems.push(ClaimProblem.no_user_id);
  } else if (!userIds.some((entry) => same(entry.name, report.name) && same(entry.email, report.email))) {
    // The claimed name and email must be one self-certified user ID of the certificate.
    problems.push(ClaimProblem.user_id);
  }
  const claimedExpiry = Number.isFinite(report.expires) ? report.expires : 0;
  if (facts.expires === null || claimedExpiry !== facts.expires) problems.push(ClaimProblem.expiry);
  const subkeyFingerprints = new Set((facts.subkeys ?? []).map((subkey) => upper(subkey.fingerprint)));
  const claimedSubkeys = Array.isArray(report.subkeys) ? report.subkeys : [];
  if (claimedSubkeys.some((subkey) => !subkeyFingerprints.has(upper(subkey?.fingerprint)))) problems.push(ClaimProblem.subkeys);
  if (facts.revoked) problems.push(ClaimProblem.revoked);
  if (facts.expired) problems.push(ClaimProblem.expired);
  return Object.freeze({ agrees: problems.length === 0, problems: Object.freeze(problems) });
}
