// certificate_report as JSON for the API (docs/certificates.md lists the fields).
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "server/pgp/certificate.hpp"

namespace secms::pgp {

namespace {

boost::json::array strings(const std::vector<std::string>& values) {
    boost::json::array out;
    for (const auto& v : values) {
        out.emplace_back(v);
    }
    return out;
}

}  // namespace

boost::json::value to_json(const certificate_report& report) {
    boost::json::array subkeys;
    for (const auto& sub : report.subkeys) {
        subkeys.emplace_back(boost::json::object{
            {"fingerprint", sub.fingerprint},
            {"key_id", sub.key_id},
            {"algorithm", sub.algorithm},
            {"bits", sub.bits},
            {"curve", sub.curve},
            {"created", sub.created},
            {"expires", sub.expires},
            {"usage", strings(sub.usage)},
            {"revoked", sub.revoked},
            {"valid", sub.valid},
        });
    }
    boost::json::array signatures;
    for (const auto& sig : report.signatures) {
        signatures.emplace_back(boost::json::object{
            {"issuer_key_id", sig.issuer_key_id},
            {"issuer_fingerprint", sig.issuer_fingerprint},
            {"type", sig.type},
            {"hash_algorithm", sig.hash_algorithm},
            {"created", sig.created},
            {"status", code(sig.status)},
            {"self_signature", sig.self_signature},
            {"on_user_id", sig.on_user_id},
            {"on_subkey", sig.on_subkey},
        });
    }
    return boost::json::object{
        {"name", report.name},
        {"email", report.email},
        {"user_ids", strings(report.user_ids)},
        {"fingerprint", report.fingerprint},
        {"key_id", report.key_id},
        {"algorithm", report.algorithm},
        {"bits", report.bits},
        {"curve", report.curve},
        {"created", report.created},
        {"expires", report.expires},
        {"usage", strings(report.usage)},
        {"subkeys", std::move(subkeys)},
        {"signatures", std::move(signatures)},
        {"armored", report.armored},
    };
}

}  // namespace secms::pgp
