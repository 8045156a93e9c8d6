// Fuzz target: the certificate input. The first byte picks the check, the rest is the data:
//   even: pgp::verify_certificate (armored or binary), with one known certifier's certificate;
//   odd:  pgp::verify_possession of a detached signature over the fixed challenge by Alice's
//         certificate (tests/fixtures/pgp), as certificate_proof checks it.
// An accepted certificate must re-verify from the armored form the server keeps.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "server/pgp/certificate.hpp"

namespace {

using namespace secms;

constexpr std::int64_t now = 1767225600;  // 2026-01-01, when the pgp unit tests "run"

std::string fixture(const char* name) {
    std::ifstream in(std::string(SECMS_SOURCE_DIR) + "/tests/fixtures/pgp/" + name,
                     std::ios::binary);
    if (!in) std::abort();  // the fixtures are part of the source tree
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct fixtures {
    pgp::known_certificates known;
    pgp::certificate_report alice;
    std::string challenge = fixture("challenge.bin");

    fixtures() {
        auto carl = pgp::verify_certificate(fixture("carl-certifier.asc"), now);
        auto alice_checked = pgp::verify_certificate(fixture("alice-ed25519.asc"), now);
        if (!carl || !alice_checked) std::abort();
        known.add(*carl);
        alice = std::move(alice_checked).value();
    }
};

const fixtures& shared() {
    static const fixtures f;
    return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto& f = shared();
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    if ((data[0] & 1u) == 0) {
        auto report = pgp::verify_certificate(input, now, {}, &f.known);
        if (report) {
            if (report->fingerprint.empty() || report->armored.empty()) std::abort();
            auto again = pgp::verify_certificate(report->armored, now, {}, &f.known);
            if (!again || again->fingerprint != report->fingerprint) std::abort();
            (void)pgp::to_json(*report);
        }
    } else {
        const auto* bytes = reinterpret_cast<const std::uint8_t*>(f.challenge.data());
        (void)pgp::verify_possession(f.alice, std::span(bytes, f.challenge.size()), input, now);
    }
    return 0;
}
