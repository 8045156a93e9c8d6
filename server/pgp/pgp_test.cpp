// Certificate checks and proof of possession against fixtures made by GnuPG, rnp and OpenPGP.js
// (tests/fixtures/pgp/make-fixtures.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <openssl/evp.h>

#include "server/pgp/certificate.hpp"
#include "server/pgp/key_facts.hpp"
#include "server/pgp/packet_scan.hpp"
#include "server/pgp/rnp_handles.hpp"

namespace secms::pgp {
namespace {

constexpr std::int64_t created_2025 = 1735689600;  // every fixture key but "expired"
constexpr std::int64_t now = 1767225600;           // 2026-01-01, when the tests "run"

std::filesystem::path fixture_dir() {
    const char* env = std::getenv("SECMS_SOURCE_DIR");
    const std::filesystem::path root = env != nullptr ? env : SECMS_SOURCE_DIR_DEFAULT;
    return root / "tests" / "fixtures" / "pgp";
}

std::string fixture(const std::string& name) {
    const auto path = fixture_dir() / name;
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in) << "missing fixture " << name;
    if (!in) {
        return {};
    }
    std::string bytes(static_cast<std::size_t>(std::filesystem::file_size(path)), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return bytes;
}

// The fingerprint gpg printed when the fixture was made.
std::string fingerprint_of(const std::string& name) {
    auto text = fixture(name + ".fpr");
    text.erase(std::remove(text.begin(), text.end(), '\n'), text.end());
    return text;
}

std::vector<std::uint8_t> challenge() {
    const auto bytes = fixture("challenge.bin");
    return {bytes.begin(), bytes.end()};
}

certificate_report accepted(const std::string& name, std::int64_t at = now,
                            const known_certificates* known = nullptr) {
    auto r = verify_certificate(fixture(name), at, {}, known);
    EXPECT_TRUE(r.has_value()) << name << ": " << (r ? "" : code(r.error()));
    return r ? std::move(r).value() : certificate_report{};
}

bool has(const std::vector<std::string>& values, const std::string& v) {
    return std::find(values.begin(), values.end(), v) != values.end();
}

std::size_t count_status(const certificate_report& r, signature_status s, bool self) {
    return static_cast<std::size_t>(std::count_if(
        r.signatures.begin(), r.signatures.end(),
        [&](const signature_info& i) { return i.status == s && i.self_signature == self; }));
}

// --- accepted certificates --------------------------------------------------------------------

TEST(pgp_certificate, accepts_gnupg_ed25519) {
    const auto r = accepted("alice-ed25519.asc");
    EXPECT_EQ(r.name, "Alice Example");
    EXPECT_EQ(r.email, "alice@example.org");
    EXPECT_EQ(r.user_ids, std::vector<std::string>{"Alice Example <alice@example.org>"});
    EXPECT_EQ(r.fingerprint, fingerprint_of("alice-ed25519"));
    EXPECT_EQ(r.fingerprint.size(), 40u);
    EXPECT_EQ(r.key_id, r.fingerprint.substr(24));
    EXPECT_EQ(r.algorithm, "EdDSA");
    EXPECT_EQ(r.curve, "Ed25519");
    EXPECT_EQ(r.created, created_2025);
    EXPECT_EQ(r.expires, 0);
    EXPECT_TRUE(has(r.usage, "sign"));
    EXPECT_TRUE(has(r.usage, "certify"));
    ASSERT_EQ(r.subkeys.size(), 1u);
    EXPECT_EQ(r.subkeys[0].algorithm, "ECDH");
    EXPECT_EQ(r.subkeys[0].curve, "Curve25519");
    EXPECT_EQ(r.subkeys[0].usage, std::vector<std::string>{"encrypt"});
    EXPECT_TRUE(r.subkeys[0].valid);
    EXPECT_FALSE(r.subkeys[0].revoked);
    ASSERT_EQ(r.signatures.size(), 2u);
    EXPECT_EQ(r.signatures[0].type, "positive certification");
    EXPECT_EQ(r.signatures[0].on_user_id, "Alice Example <alice@example.org>");
    EXPECT_EQ(r.signatures[1].type, "subkey binding");
    EXPECT_EQ(r.signatures[1].on_subkey, r.subkeys[0].fingerprint);
    for (const auto& sig : r.signatures) {
        EXPECT_TRUE(sig.self_signature);
        EXPECT_EQ(sig.status, signature_status::verified);
        EXPECT_EQ(sig.issuer_key_id, r.key_id);
        EXPECT_EQ(sig.issuer_fingerprint, r.fingerprint);
        EXPECT_EQ(sig.hash_algorithm, "SHA256");
        EXPECT_EQ(sig.created, created_2025);
    }
    EXPECT_EQ(r.armored.rfind("-----BEGIN PGP PUBLIC KEY BLOCK-----", 0), 0u);
}

TEST(pgp_certificate, accepts_binary_certificate) {
    const auto r = accepted("alice-ed25519.gpg");
    EXPECT_EQ(r.fingerprint, fingerprint_of("alice-ed25519"));
}

TEST(pgp_certificate, report_armored_certificate_loads_again) {
    const auto first = accepted("alice-ed25519.asc");
    const auto again = verify_certificate(first.armored, now);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->fingerprint, first.fingerprint);
}

TEST(pgp_certificate, accepts_gnupg_rsa3072) {
    const auto r = accepted("bob-rsa3072.asc");
    EXPECT_EQ(r.name, "Bob Example");
    EXPECT_EQ(r.fingerprint, fingerprint_of("bob-rsa3072"));
    EXPECT_EQ(r.algorithm, "RSA");
    EXPECT_EQ(r.bits, 3072u);
    EXPECT_TRUE(r.curve.empty());
    ASSERT_EQ(r.subkeys.size(), 1u);
    EXPECT_EQ(r.subkeys[0].bits, 3072u);
    EXPECT_EQ(r.subkeys[0].usage, std::vector<std::string>{"encrypt"});
}

TEST(pgp_certificate, accepts_rnp_rsa3072) {
    const auto r = accepted("erin-rnp-rsa3072.asc");
    EXPECT_EQ(r.email, "erin@example.org");
    EXPECT_EQ(r.fingerprint, fingerprint_of("erin-rnp-rsa3072"));
    EXPECT_EQ(r.algorithm, "RSA");
    EXPECT_EQ(r.bits, 3072u);
    EXPECT_TRUE(has(r.usage, "sign"));
}

TEST(pgp_certificate, accepts_openpgpjs_v4_ed25519_cv25519) {
    const auto r = accepted("openpgpjs-ed25519.asc");
    EXPECT_EQ(r.name, "Olivia OpenPGPjs");
    EXPECT_EQ(r.email, "olivia@example.org");
    EXPECT_EQ(r.fingerprint, fingerprint_of("openpgpjs-ed25519"));
    EXPECT_EQ(r.algorithm, "EdDSA");
    EXPECT_EQ(r.curve, "Ed25519");
    ASSERT_EQ(r.subkeys.size(), 1u);
    EXPECT_EQ(r.subkeys[0].algorithm, "ECDH");
    EXPECT_EQ(r.subkeys[0].curve, "Curve25519");
    EXPECT_TRUE(has(r.subkeys[0].usage, "encrypt"));
}

TEST(pgp_certificate, accepts_signing_subkey_with_certify_only_primary) {
    const auto r = accepted("sam-signing-subkey.asc");
    EXPECT_EQ(r.usage, std::vector<std::string>{"certify"});
    ASSERT_EQ(r.subkeys.size(), 2u);
    EXPECT_EQ(r.subkeys[0].usage, std::vector<std::string>{"sign"});
    EXPECT_TRUE(r.subkeys[0].valid);
}

TEST(pgp_certificate, expired_key_is_accepted_before_it_expires) {
    const std::int64_t mid_2020 = 1590969600;  // 2020-06-01
    const auto r = accepted("expired.asc", mid_2020);
    EXPECT_EQ(r.created, 1577836800);
    EXPECT_GT(r.expires, mid_2020);
    EXPECT_LT(r.expires, now);
}

// --- refused certificates ---------------------------------------------------------------------

struct refusal {
    const char* fixture;
    certificate_error expected;
};

class pgp_refusal : public testing::TestWithParam<refusal> {};

TEST_P(pgp_refusal, gives_its_reason) {
    const auto& p = GetParam();
    const auto r = verify_certificate(fixture(p.fixture), now);
    ASSERT_FALSE(r.has_value()) << p.fixture;
    EXPECT_EQ(code(r.error()), code(p.expected)) << p.fixture;
}

INSTANTIATE_TEST_SUITE_P(
    fixtures, pgp_refusal,
    testing::Values(
        refusal{"expired.asc", certificate_error::expired},
        refusal{"revoked.asc", certificate_error::revoked},
        refusal{"rsa1024.asc", certificate_error::weak_algorithm},
        refusal{"dsa-elgamal.asc", certificate_error::weak_algorithm},
        refusal{"sha1-self-signature.asc", certificate_error::sha1_self_signature},
        refusal{"broken-self-signature.asc", certificate_error::bad_self_signature},
        refusal{"subkey-only.asc", certificate_error::subkey_only},
        refusal{"no-user-id.asc", certificate_error::no_user_id},
        refusal{"no-signing-key.asc", certificate_error::no_signing_key},
        refusal{"two-certificates-one-block.asc", certificate_error::several_certificates},
        refusal{"two-certificates-two-blocks.asc", certificate_error::several_certificates},
        refusal{"secret-key-test-only.asc", certificate_error::secret_key_material},
        refusal{"challenge.alice.sig.asc", certificate_error::no_certificate},
        refusal{"challenge.alice.sig", certificate_error::no_certificate},
        refusal{"challenge.bin", certificate_error::not_openpgp}),
    [](const testing::TestParamInfo<refusal>& param_info) {
        std::string name = param_info.param.fixture;
        std::replace_if(
            name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
        return name;
    });

TEST(pgp_certificate, refuses_empty_input) {
    const auto r = verify_certificate("", now);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), certificate_error::empty);
}

TEST(pgp_certificate, refuses_oversized_input_before_parsing) {
    const std::string big(64 * 1024 + 1, 'A');
    const auto r = verify_certificate(big, now);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), certificate_error::too_large);

    pgp_limits small;
    small.max_certificate_bytes = 100;
    const auto good = verify_certificate(fixture("alice-ed25519.asc"), now, small);
    ASSERT_FALSE(good.has_value());
    EXPECT_EQ(good.error(), certificate_error::too_large);
}

TEST(pgp_certificate, refuses_too_many_signatures) {
    pgp_limits limits;
    limits.max_signatures = 1;
    const auto r = verify_certificate(fixture("alice-ed25519.asc"), now, limits);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), certificate_error::too_large);
}

TEST(pgp_certificate, refuses_garbage) {
    for (const std::string& garbage :
         {std::string("hello, this is not a key"), std::string("\x99\x01", 2),
          std::string("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64!\n"
                      "-----END PGP PUBLIC KEY BLOCK-----\n"),
          std::string(1000, '\0'), std::string(300, '\xff')}) {
        const auto r = verify_certificate(garbage, now);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error(), certificate_error::not_openpgp) << code(r.error());
    }
}

TEST(pgp_certificate, refuses_truncated_armored_certificate) {
    const auto full = fixture("alice-ed25519.asc");
    const auto r = verify_certificate(full.substr(0, full.size() / 2), now);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), certificate_error::not_openpgp);
}

TEST(pgp_certificate, refuses_truncated_binary_certificate) {
    const auto full = fixture("alice-ed25519.gpg");
    for (const std::size_t cut : {full.size() / 2, full.size() - 1, std::size_t{10}}) {
        const auto r = verify_certificate(full.substr(0, cut), now);
        ASSERT_FALSE(r.has_value()) << cut;
        EXPECT_EQ(r.error(), certificate_error::not_openpgp) << cut << " " << code(r.error());
    }
}

// --- third-party certifications ---------------------------------------------------------------

TEST(pgp_certificate, third_party_certifications_unknown_issuers_are_listed) {
    const auto r = accepted("dora-certified.asc");
    EXPECT_EQ(r.fingerprint, fingerprint_of("dora-certified"));
    EXPECT_EQ(count_status(r, signature_status::issuer_unknown, false), 2u);
    EXPECT_EQ(count_status(r, signature_status::verified, true), 2u);
    std::set<std::string> issuers;
    for (const auto& sig : r.signatures) {
        if (!sig.self_signature) {
            EXPECT_EQ(sig.type, "generic certification");
            EXPECT_EQ(sig.on_user_id, "Dora Certified <dora@example.org>");
            EXPECT_EQ(sig.created, 1735776000);
            issuers.insert(sig.issuer_key_id);
        }
    }
    EXPECT_EQ(issuers, (std::set<std::string>{fingerprint_of("carl-certifier").substr(24),
                                              fingerprint_of("eve-unknown").substr(24)}));
}

TEST(pgp_certificate, third_party_certification_verifies_when_issuer_is_known) {
    known_certificates known;
    known.add(accepted("carl-certifier.asc"));
    known.add(accepted("bob-rsa3072.asc"));
    EXPECT_EQ(known.size(), 2u);
    const auto carl = fingerprint_of("carl-certifier");
    const auto r = accepted("dora-certified.asc", now, &known);
    bool saw_carl = false;
    bool saw_eve = false;
    for (const auto& sig : r.signatures) {
        if (sig.issuer_key_id == carl.substr(24)) {
            saw_carl = true;
            EXPECT_EQ(sig.status, signature_status::verified);
            EXPECT_EQ(sig.issuer_fingerprint, carl);
        } else if (sig.issuer_key_id == fingerprint_of("eve-unknown").substr(24)) {
            saw_eve = true;
            EXPECT_EQ(sig.status, signature_status::issuer_unknown);
        }
    }
    EXPECT_TRUE(saw_carl);
    EXPECT_TRUE(saw_eve);
    // The known certificate did not leak into the report.
    EXPECT_EQ(r.subkeys.size(), 1u);
    EXPECT_EQ(r.user_ids.size(), 1u);

    known.remove(carl);
    EXPECT_EQ(known.size(), 1u);
    EXPECT_EQ(count_status(accepted("dora-certified.asc", now, &known),
                           signature_status::issuer_unknown, false),
              2u);
}

TEST(pgp_certificate, known_copy_of_the_same_certificate_is_not_merged) {
    known_certificates known;
    known.add(accepted("dora-certified.asc"));
    const auto r = accepted("dora-certified.asc", now, &known);
    EXPECT_EQ(count_status(r, signature_status::issuer_unknown, false), 2u);
}

// --- JSON -------------------------------------------------------------------------------------

TEST(pgp_certificate, report_to_json) {
    const auto r = accepted("alice-ed25519.asc");
    const auto v = to_json(r);
    const auto& o = v.as_object();
    EXPECT_EQ(o.at("name").as_string(), "Alice Example");
    EXPECT_EQ(o.at("fingerprint").as_string(), r.fingerprint);
    EXPECT_EQ(o.at("algorithm").as_string(), "EdDSA");
    EXPECT_EQ(o.at("created").as_int64(), created_2025);
    EXPECT_EQ(o.at("subkeys").as_array().size(), 1u);
    const auto& sig = o.at("signatures").as_array().at(0).as_object();
    EXPECT_EQ(sig.at("status").as_string(), "verified");
    EXPECT_EQ(sig.at("type").as_string(), "positive certification");
    EXPECT_EQ(o.at("armored").as_string(), r.armored);
}

TEST(pgp_certificate, codes_and_messages_are_distinct_and_present) {
    std::set<std::string_view> codes;
    for (int i = 0; i <= static_cast<int>(certificate_error::no_signing_key); ++i) {
        const auto e = static_cast<certificate_error>(i);
        EXPECT_TRUE(codes.insert(code(e)).second) << code(e);
        EXPECT_NE(code(e), "unknown");
        EXPECT_GT(message(e).size(), 10u);
    }
    codes.clear();
    for (int i = 0; i <= static_cast<int>(possession_error::signature_expired); ++i) {
        const auto e = static_cast<possession_error>(i);
        EXPECT_TRUE(codes.insert(code(e)).second) << code(e);
        EXPECT_NE(code(e), "unknown");
        EXPECT_GT(message(e).size(), 10u);
    }
}

// --- proof of possession ----------------------------------------------------------------------

struct possession_case {
    const char* certificate;
    const char* signature;
};

class pgp_possession : public testing::TestWithParam<possession_case> {};

TEST_P(pgp_possession, signature_by_the_certificate_is_accepted) {
    const auto& p = GetParam();
    const auto cert = accepted(p.certificate);
    const auto r = verify_possession(cert, challenge(), fixture(p.signature), now);
    EXPECT_TRUE(r.has_value()) << p.signature << ": " << (r ? "" : code(r.error()));
}

INSTANTIATE_TEST_SUITE_P(
    fixtures, pgp_possession,
    testing::Values(possession_case{"alice-ed25519.asc", "challenge.alice.sig"},
                    possession_case{"alice-ed25519.asc", "challenge.alice.sig.asc"},
                    possession_case{"bob-rsa3072.asc", "challenge.bob.sig"},
                    possession_case{"erin-rnp-rsa3072.asc", "challenge.erin.sig"},
                    possession_case{"sam-signing-subkey.asc", "challenge.sam.sig"},
                    possession_case{"openpgpjs-ed25519.asc", "challenge.openpgpjs.sig"},
                    possession_case{"openpgpjs-ed25519.asc", "challenge.openpgpjs.sig.asc"}),
    [](const testing::TestParamInfo<possession_case>& param_info) {
        std::string name = param_info.param.signature;
        std::replace_if(
            name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
        return name;
    });

possession_error refused(const std::string& cert, const std::string& signature,
                         std::vector<std::uint8_t> data = challenge()) {
    const auto r = verify_possession(accepted(cert), data, signature, now);
    EXPECT_FALSE(r.has_value());
    return r ? possession_error::empty : r.error();
}

TEST(pgp_possession_refusal, signature_by_another_key) {
    EXPECT_EQ(refused("alice-ed25519.asc", fixture("challenge.bob.sig")),
              possession_error::unknown_signer);
    EXPECT_EQ(refused("openpgpjs-ed25519.asc", fixture("challenge.alice.sig.asc")),
              possession_error::unknown_signer);
}

TEST(pgp_possession_refusal, signature_over_another_challenge) {
    auto other = challenge();
    other[0] ^= 0x01;
    EXPECT_EQ(refused("alice-ed25519.asc", fixture("challenge.alice.sig"), other),
              possession_error::bad_signature);
    auto shorter = challenge();
    shorter.resize(16);
    EXPECT_EQ(refused("openpgpjs-ed25519.asc", fixture("challenge.openpgpjs.sig"), shorter),
              possession_error::bad_signature);
}

TEST(pgp_possession_refusal, altered_signature) {
    auto sig = fixture("challenge.alice.sig");
    sig[sig.size() - 3] = static_cast<char>(sig[sig.size() - 3] ^ 0x40);
    const auto e = refused("alice-ed25519.asc", sig);
    EXPECT_TRUE(e == possession_error::bad_signature || e == possession_error::not_a_signature)
        << code(e);
}

TEST(pgp_possession_refusal, sha1_signature) {
    EXPECT_EQ(refused("bob-rsa3072.asc", fixture("challenge.bob-sha1.sig")),
              possession_error::weak_hash);
}

TEST(pgp_possession_refusal, garbage_empty_and_oversized) {
    EXPECT_EQ(refused("alice-ed25519.asc", "garbage, not a signature"),
              possession_error::not_a_signature);
    EXPECT_EQ(refused("alice-ed25519.asc", std::string(200, '\xff')),
              possession_error::not_a_signature);
    EXPECT_EQ(refused("alice-ed25519.asc", fixture("alice-ed25519.asc")),
              possession_error::not_a_signature);
    const auto armored = fixture("challenge.alice.sig.asc");
    EXPECT_EQ(refused("alice-ed25519.asc", armored.substr(0, armored.size() / 2)),
              possession_error::not_a_signature);
    EXPECT_EQ(refused("alice-ed25519.asc", ""), possession_error::empty);
    EXPECT_EQ(refused("alice-ed25519.asc", std::string(20000, 'A')), possession_error::too_large);
}

TEST(pgp_possession_refusal, certificate_that_does_not_load) {
    certificate_report bogus;
    bogus.armored = "not a certificate";
    const auto r = verify_possession(bogus, challenge(), fixture("challenge.alice.sig"), now);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), possession_error::bad_certificate);
}

// --- robustness -------------------------------------------------------------------------------

// 2000 random mutations (fixed seed) of good certificates: each gives a verdict, none crashes.
TEST(pgp_robustness, mutated_certificates_never_crash) {
    const std::vector<std::string> seeds{fixture("alice-ed25519.gpg"),
                                         fixture("openpgpjs-ed25519.asc"),
                                         fixture("dora-certified.asc")};
    std::mt19937 rng(20250101);
    const auto start = std::chrono::steady_clock::now();
    std::size_t accepted_count = 0;
    std::set<std::string_view> verdicts;  // the mutations must reach past the parser
    for (int i = 0; i < 2000; ++i) {
        std::string data = seeds[static_cast<std::size_t>(i) % seeds.size()];
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits && !data.empty(); ++e) {
            const std::size_t at = rng() % data.size();
            switch (rng() % 5) {
                case 0:
                    data[at] = static_cast<char>(data[at] ^ (1 << (rng() % 8)));
                    break;
                case 1:
                    data[at] = static_cast<char>(rng());
                    break;
                case 2:
                    data.resize(at);
                    break;
                case 3:
                    data.insert(at, 1 + rng() % 8, static_cast<char>(rng()));
                    break;
                default:
                    data.erase(at, 1 + rng() % 16);
                    break;
            }
        }
        const auto r = verify_certificate(data, now);
        if (r) {
            ++accepted_count;
            EXPECT_EQ(r->fingerprint.size(), 40u);
        } else {
            EXPECT_NE(code(r.error()), "unknown");
            verdicts.insert(code(r.error()));
        }
    }
    std::string seen;
    for (const auto v : verdicts) {
        seen += std::string(v) + " ";
    }
    EXPECT_GE(verdicts.size(), 4u) << seen;
    std::cout << "[          ] accepted " << accepted_count << ", refusals: " << seen << '\n';
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(pgp_robustness, concurrent_checks_are_independent) {
    const auto alice = fixture("alice-ed25519.asc");
    const auto bob = fixture("bob-rsa3072.asc");
    const auto alice_fpr = fingerprint_of("alice-ed25519");
    const auto bob_fpr = fingerprint_of("bob-rsa3072");
    std::vector<std::thread> threads;
    std::vector<int> failures(4, 0);
    for (std::size_t t = 0; t < failures.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10; ++i) {
                const bool use_alice = (t + static_cast<std::size_t>(i)) % 2 == 0;
                const auto r = verify_certificate(use_alice ? alice : bob, now);
                if (!r || r->fingerprint != (use_alice ? alice_fpr : bob_fpr)) {
                    ++failures[t];
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(failures, std::vector<int>(4, 0));
}

// --- packet scan: limits checked before librnp verifies anything --------------------------------

// Packets built by hand (RFC 9580 §4.2, §5): the scan reads framing and key fields only, so the
// signatures need not verify.
using octets = std::vector<std::uint8_t>;

octets cat(std::initializer_list<octets> parts) {
    octets out;
    for (const auto& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

octets new_packet(std::uint8_t tag, const octets& body) {
    const std::size_t n = body.size();
    octets header;
    if (n < 192) {
        header = {static_cast<std::uint8_t>(n)};
    } else if (n < 8384) {
        header = {static_cast<std::uint8_t>(((n - 192) >> 8) + 192),
                  static_cast<std::uint8_t>((n - 192) & 0xFF)};
    } else {
        header = {0xFF, static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
                  static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
    }
    return cat({{static_cast<std::uint8_t>(0xC0 | tag)}, header, body});
}

// An MPI of exactly `bits` bits (top bit set, odd).
octets mpi_bits(std::size_t bits) {
    octets out{static_cast<std::uint8_t>(bits >> 8), static_cast<std::uint8_t>(bits & 0xFF)};
    octets value((bits + 7) / 8, 0x5A);
    value.front() = static_cast<std::uint8_t>(1u << ((bits - 1) % 8));
    value.back() |= 1;
    if (value.size() == 1) value.front() |= 1;
    out.insert(out.end(), value.begin(), value.end());
    return out;
}

octets mpi_value(std::uint64_t v) {
    octets value;
    for (std::uint64_t x = v; x != 0; x >>= 8) {
        value.insert(value.begin(), static_cast<std::uint8_t>(x & 0xFF));
    }
    std::size_t bits = 0;
    for (std::uint64_t x = v; x != 0; x >>= 1) {
        ++bits;
    }
    // Built by push_back: GCC 12's -O2 -Warray-bounds takes an insert after a two-element
    // initializer list for an overflow (a false positive that broke the release build).
    octets out;
    out.reserve(2 + value.size());
    out.push_back(static_cast<std::uint8_t>(bits >> 8));
    out.push_back(static_cast<std::uint8_t>(bits & 0xFF));
    for (const std::uint8_t b : value) out.push_back(b);
    return out;
}

constexpr std::uint8_t tag_signature = 2, tag_secret_key = 5, tag_public_key = 6, tag_marker = 10,
                       tag_user_id = 13, tag_public_subkey = 14, tag_user_attribute = 17;

octets v4_key_head(std::uint8_t algorithm) {
    return {4, 0x67, 0x74, 0x85, 0x00, algorithm};  // version 4, 2025-01-01, algorithm
}

octets rsa_key(std::size_t n_bits, std::uint64_t e = 65537) {
    return cat({v4_key_head(1), mpi_bits(n_bits), mpi_value(e)});
}
octets rsa_key_with_e_bits(std::size_t n_bits, std::size_t e_bits) {
    return cat({v4_key_head(1), mpi_bits(n_bits), mpi_bits(e_bits)});
}
octets dsa_key(std::size_t p_bits, std::size_t q_bits) {
    return cat({v4_key_head(17), mpi_bits(p_bits), mpi_bits(q_bits), mpi_bits(p_bits - 1),
                mpi_bits(p_bits - 1)});
}
octets elgamal_key(std::size_t p_bits) {
    return cat({v4_key_head(16), mpi_bits(p_bits), mpi_value(5), mpi_bits(p_bits - 1)});
}
octets ed25519_key() {
    octets body = cat({v4_key_head(22), {9, 0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01}});
    octets point{0x01, 0x07, 0x40};
    point.resize(3 + 32, 0x11);
    return cat({body, point});
}

// The v4 key ID of a key packet body, as the scan computes it independently.
octets key_id_of(const octets& body) {
    octets hashed{0x99, static_cast<std::uint8_t>(body.size() >> 8),
                  static_cast<std::uint8_t>(body.size() & 0xFF)};
    hashed.insert(hashed.end(), body.begin(), body.end());
    octets digest(20);
    unsigned int len = 0;
    EXPECT_EQ(EVP_Digest(hashed.data(), hashed.size(), digest.data(), &len, EVP_sha1(), nullptr),
              1);
    return {digest.end() - 8, digest.end()};
}

// A v4 signature packet; issuer: an issuer key ID subpacket (unhashed) or none at all.
octets signature_packet(std::uint8_t type, const std::optional<octets>& issuer) {
    octets hashed{5, 2, 0x67, 0x74, 0x85, 0x00};  // creation time
    octets unhashed;
    if (issuer) {
        unhashed = cat({{9, 16}, *issuer});
    }
    octets body{4, type, 1, 8, 0, static_cast<std::uint8_t>(hashed.size())};
    body = cat({body,
                hashed,
                {0, static_cast<std::uint8_t>(unhashed.size())},
                unhashed,
                {0xAB, 0xCD},
                mpi_bits(2048)});
    return new_packet(tag_signature, body);
}

const octets third_party_id{1, 2, 3, 4, 5, 6, 7, 8};

// A certificate shape: a primary key, user IDs with self-signatures, subkeys with bindings.
struct shape {
    octets primary = rsa_key(3072);
    std::size_t user_ids = 1;
    std::size_t self_sigs_per_uid = 1;
    std::size_t third_party_sigs_per_uid = 0;
    std::size_t direct_sigs = 0;
    std::size_t subkeys = 0;
    std::size_t sigs_per_subkey = 1;
    octets subkey = ed25519_key();
    bool name_issuer = true;  // self-signatures carry the issuer key ID

    octets build() const {
        const octets self = key_id_of(primary);
        const auto self_sig = [&](std::uint8_t type) {
            return signature_packet(type, name_issuer ? std::optional<octets>(self) : std::nullopt);
        };
        octets out = new_packet(tag_public_key, primary);
        for (std::size_t i = 0; i < direct_sigs; ++i) out = cat({out, self_sig(0x1F)});
        for (std::size_t u = 0; u < user_ids; ++u) {
            const std::string uid =
                "User " + std::to_string(u) + " <u" + std::to_string(u) + "@example.org>";
            out = cat({out, new_packet(tag_user_id, octets(uid.begin(), uid.end()))});
            for (std::size_t i = 0; i < self_sigs_per_uid; ++i) out = cat({out, self_sig(0x13)});
            for (std::size_t i = 0; i < third_party_sigs_per_uid; ++i) {
                out = cat({out, signature_packet(0x10, third_party_id)});
            }
        }
        for (std::size_t k = 0; k < subkeys; ++k) {
            out = cat({out, new_packet(tag_public_subkey, subkey)});
            for (std::size_t i = 0; i < sigs_per_subkey; ++i) out = cat({out, self_sig(0x18)});
        }
        return out;
    }
};

std::string scan_code(const octets& data, const pgp_limits& limits = {}) {
    const auto r = scan_certificate_packets(data, limits);
    return r ? "ok" : std::string(code(r.error()));
}

TEST(pgp_scan, ordinary_shapes_pass) {
    EXPECT_EQ(scan_code(shape{}.build()), "ok");
    shape ecc;
    ecc.primary = ed25519_key();
    ecc.subkeys = 2;
    EXPECT_EQ(scan_code(ecc.build()), "ok");
    for (const auto* name : {"alice-ed25519.gpg"}) {
        const auto bytes = fixture(name);
        EXPECT_EQ(scan_code(octets(bytes.begin(), bytes.end())), "ok") << name;
    }
}

TEST(pgp_scan, rsa_modulus_limit_is_exact) {
    shape s;
    s.primary = rsa_key(4096);
    EXPECT_EQ(scan_code(s.build()), "ok");
    s.primary = rsa_key(4097);
    EXPECT_EQ(scan_code(s.build()), "unsupported");
    pgp_limits large;
    large.max_rsa_bits = 8192;
    s.primary = rsa_key(8192);
    EXPECT_EQ(scan_code(s.build()), "unsupported");
    EXPECT_EQ(scan_code(s.build(), large), "ok");
    s.primary = rsa_key(8193);
    EXPECT_EQ(scan_code(s.build(), large), "unsupported");
    // The subkeys are held to the same limit.
    shape sub;
    sub.subkeys = 1;
    sub.subkey = rsa_key(4097);
    EXPECT_EQ(scan_code(sub.build()), "unsupported");
}

TEST(pgp_scan, rsa_exponent_must_be_odd_and_below_2_to_the_32) {
    shape s;
    for (const std::uint64_t good :
         {std::uint64_t{3}, std::uint64_t{65537}, std::uint64_t{0xFFFFFFFF}}) {
        s.primary = rsa_key(3072, good);
        EXPECT_EQ(scan_code(s.build()), "ok") << good;
    }
    for (const std::uint64_t bad :
         {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{65536}, std::uint64_t{0x100000001}}) {
        s.primary = rsa_key(3072, bad);
        EXPECT_EQ(scan_code(s.build()), "unsupported") << bad;
    }
    s.primary = rsa_key_with_e_bits(3072, 3071);  // the attack's shape at a smaller size
    EXPECT_EQ(scan_code(s.build()), "unsupported");
    shape sub;
    sub.subkeys = 1;
    sub.subkey = rsa_key_with_e_bits(2048, 2047);
    EXPECT_EQ(scan_code(sub.build()), "unsupported");
}

TEST(pgp_scan, dsa_and_elgamal) {
    shape s;
    s.primary = dsa_key(2048, 256);
    EXPECT_EQ(scan_code(s.build()), "weak_algorithm");
    s.primary = elgamal_key(2048);
    EXPECT_EQ(scan_code(s.build()), "weak_algorithm");
    // Subkeys: left to the later checks (an expired one is harmless) but their size is capped.
    shape sub;
    sub.subkeys = 1;
    sub.subkey = dsa_key(4096, 256);
    EXPECT_EQ(scan_code(sub.build()), "ok");
    sub.subkey = dsa_key(4097, 256);
    EXPECT_EQ(scan_code(sub.build()), "unsupported");
    sub.subkey = dsa_key(3072, 257);
    EXPECT_EQ(scan_code(sub.build()), "unsupported");
    sub.subkey = elgamal_key(4096);
    EXPECT_EQ(scan_code(sub.build()), "ok");
    sub.subkey = elgamal_key(4097);
    EXPECT_EQ(scan_code(sub.build()), "unsupported");
}

TEST(pgp_scan, user_id_limit_is_exact) {
    shape s;
    s.user_ids = 32;
    EXPECT_EQ(scan_code(s.build()), "ok");
    s.user_ids = 33;
    EXPECT_EQ(scan_code(s.build()), "too_large");
    // A user attribute counts as a user ID.
    auto at_limit = shape{.user_ids = 32}.build();
    at_limit = cat({at_limit, new_packet(tag_user_attribute, {1, 2, 3})});
    EXPECT_EQ(scan_code(at_limit), "too_large");
}

TEST(pgp_scan, subkey_limit_is_exact) {
    shape s;
    s.subkeys = 16;
    EXPECT_EQ(scan_code(s.build()), "ok");
    s.subkeys = 17;
    EXPECT_EQ(scan_code(s.build()), "too_large");
}

TEST(pgp_scan, self_signatures_per_user_id_limit_is_exact) {
    shape s;
    s.self_sigs_per_uid = 8;
    EXPECT_EQ(scan_code(s.build()), "ok");
    s.self_sigs_per_uid = 9;
    EXPECT_EQ(scan_code(s.build()), "too_large");
    // A signature that names no issuer may be a self-signature: it counts.
    s.name_issuer = false;
    s.self_sigs_per_uid = 8;
    EXPECT_EQ(scan_code(s.build()), "ok");
    s.self_sigs_per_uid = 9;
    EXPECT_EQ(scan_code(s.build()), "too_large");
    // Third-party certifications are not verified with this key: only the total bounds them.
    shape popular;
    popular.self_sigs_per_uid = 8;
    popular.third_party_sigs_per_uid = 40;
    EXPECT_EQ(scan_code(popular.build()), "ok");
    // The counter starts again at each user ID.
    shape many;
    many.user_ids = 4;
    many.self_sigs_per_uid = 8;
    EXPECT_EQ(scan_code(many.build()), "ok");
}

TEST(pgp_scan, direct_key_signatures_count_as_self_signatures) {
    shape s;
    s.direct_sigs = 8;
    EXPECT_EQ(scan_code(s.build()), "ok");
    s.direct_sigs = 9;
    EXPECT_EQ(scan_code(s.build()), "too_large");
}

TEST(pgp_scan, signatures_per_subkey_limit_is_exact) {
    shape s;
    s.subkeys = 2;
    s.sigs_per_subkey = 8;
    EXPECT_EQ(scan_code(s.build()), "ok");
    s.sigs_per_subkey = 9;
    EXPECT_EQ(scan_code(s.build()), "too_large");
}

TEST(pgp_scan, total_signature_limit_is_exact) {
    shape s;
    s.user_ids = 32;
    s.self_sigs_per_uid = 8;  // 256 signatures
    EXPECT_EQ(scan_code(s.build()), "ok");
    const auto over = cat({s.build(), signature_packet(0x10, third_party_id)});
    EXPECT_EQ(scan_code(over), "too_large");
    pgp_limits limits;
    limits.max_signatures = 10;
    shape small;
    small.user_ids = 5;
    small.self_sigs_per_uid = 2;
    EXPECT_EQ(scan_code(small.build(), limits), "ok");
    small.third_party_sigs_per_uid = 1;
    EXPECT_EQ(scan_code(small.build(), limits), "too_large");
}

TEST(pgp_scan, packet_limit_is_exact) {
    const octets marker_packet = new_packet(tag_marker, {'P', 'G', 'P'});
    octets data = new_packet(tag_public_key, rsa_key(3072));
    for (int i = 0; i < 999; ++i) data = cat({data, marker_packet});
    EXPECT_EQ(scan_code(data), "ok");  // 1000 packets
    data = cat({data, marker_packet});
    EXPECT_EQ(scan_code(data), "too_large");
}

TEST(pgp_scan, framing_errors_are_refused) {
    const octets key = rsa_key(3072);
    const octets good = new_packet(tag_public_key, key);
    EXPECT_EQ(scan_code(good), "ok");
    // Legacy format, two-octet length: the same packet is fine.
    octets legacy{0x99, static_cast<std::uint8_t>(key.size() >> 8),
                  static_cast<std::uint8_t>(key.size() & 0xFF)};
    legacy.insert(legacy.end(), key.begin(), key.end());
    EXPECT_EQ(scan_code(legacy), "ok");
    // Five-octet length.
    octets five{0xC6,
                0xFF,
                0,
                0,
                static_cast<std::uint8_t>(key.size() >> 8),
                static_cast<std::uint8_t>(key.size() & 0xFF)};
    five.insert(five.end(), key.begin(), key.end());
    EXPECT_EQ(scan_code(five), "ok");
    // A partial body length (RFC 9580 §4.2.1.4) in a key packet.
    octets partial{0xC6, 0xE0 + 9};  // a 512-octet first part
    partial.insert(partial.end(), key.begin(), key.end());
    EXPECT_EQ(scan_code(partial), "not_openpgp");
    // Legacy indeterminate length.
    octets indeterminate{0x9B};
    indeterminate.insert(indeterminate.end(), key.begin(), key.end());
    EXPECT_EQ(scan_code(indeterminate), "not_openpgp");
    // A length past the end, a reserved tag 0, a first octet without bit 7.
    octets longer = good;
    longer[2] = static_cast<std::uint8_t>(longer[2] + 1);
    EXPECT_EQ(scan_code(longer), "not_openpgp");
    EXPECT_EQ(scan_code(cat({good, {0xC0, 0x01, 0x00}})), "not_openpgp");
    EXPECT_EQ(scan_code(cat({good, {0x46, 0x01, 0x00}})), "not_openpgp");
    // A key packet too short for its MPIs, or of an unknown version.
    EXPECT_EQ(scan_code(new_packet(tag_public_key, {key.begin(), key.end() - 1})), "not_openpgp");
    octets v9 = key;
    v9[0] = 9;
    EXPECT_EQ(scan_code(new_packet(tag_public_key, v9)), "not_openpgp");
    EXPECT_EQ(scan_code({}), "not_openpgp");
}

TEST(pgp_scan, what_the_packets_are) {
    const octets key = new_packet(tag_public_key, rsa_key(3072));
    EXPECT_EQ(scan_code(cat({key, new_packet(tag_secret_key, rsa_key(3072))})),
              "secret_key_material");
    EXPECT_EQ(scan_code(signature_packet(0x00, third_party_id)), "no_certificate");
    EXPECT_EQ(scan_code(new_packet(tag_public_subkey, ed25519_key())), "subkey_only");
    EXPECT_EQ(scan_code(cat({key, key})), "several_certificates");
    EXPECT_EQ(scan_code(new_packet(tag_marker, {'P', 'G', 'P'})), "not_openpgp");
    EXPECT_EQ(scan_code(cat({new_packet(tag_marker, {'P', 'G', 'P'}), key})), "ok");
}

TEST(pgp_scan, armor_decoding) {
    const auto binary = fixture("alice-ed25519.gpg");
    const auto armored = fixture("alice-ed25519.asc");
    const auto from_armor = decode_certificate_input(armored);
    ASSERT_TRUE(from_armor.has_value());
    EXPECT_EQ(*from_armor, octets(binary.begin(), binary.end()));
    const auto same = decode_certificate_input(binary);
    ASSERT_TRUE(same.has_value());
    EXPECT_EQ(*same, octets(binary.begin(), binary.end()));
    // Text around the block, armor headers, CRLF line ends, a wrong CRC (RFC 9580 §6.1: not a
    // reason to refuse).
    std::string decorated = "Here is my key:\r\n" + armored + "thanks\r\n";
    decorated.insert(decorated.find("\n\n"), "\nComment: made for a test");
    const auto crc = decorated.rfind("\n=");
    ASSERT_NE(crc, std::string::npos);
    decorated[crc + 2] = decorated[crc + 2] == 'A' ? 'B' : 'A';
    const auto decoded = decode_certificate_input(decorated);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, octets(binary.begin(), binary.end()));
    // Two blocks decode to both: the second certificate is scanned too.
    const auto two = decode_certificate_input(armored + armored);
    ASSERT_TRUE(two.has_value());
    EXPECT_EQ(scan_code(*two), "several_certificates");
    // No END line, bad base64, no armor, a cleartext signed message.
    const auto cut = decode_certificate_input(armored.substr(0, armored.find("-----END")));
    ASSERT_FALSE(cut.has_value());
    EXPECT_EQ(cut.error(), certificate_error::not_openpgp);
    const auto bad = decode_certificate_input(
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQ*#\n-----END PGP PUBLIC KEY BLOCK-----\n");
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error(), certificate_error::not_openpgp);
    const auto none = decode_certificate_input("just some text\n");
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.error(), certificate_error::not_openpgp);
    const auto clear = decode_certificate_input(
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhello\n-----BEGIN PGP "
        "SIGNATURE-----\n\niQ==\n-----END PGP SIGNATURE-----\n");
    ASSERT_FALSE(clear.has_value());
    EXPECT_EQ(clear.error(), certificate_error::no_certificate);
}

// Every prefix and 3000 random mutations of real certificates: a verdict each, never a crash.
TEST(pgp_scan, truncations_and_mutations_never_crash) {
    std::set<std::string> verdicts;
    for (const auto* name : {"alice-ed25519.gpg", "rsa8192-huge-exponent.asc"}) {
        const auto decoded = decode_certificate_input(fixture(name));
        ASSERT_TRUE(decoded.has_value()) << name;
        const octets& full = *decoded;
        for (std::size_t cut = 0; cut < full.size(); ++cut) {
            verdicts.insert(scan_code({full.begin(), full.begin() + static_cast<long>(cut)}));
        }
        std::mt19937 rng(20261130);
        for (int i = 0; i < 3000; ++i) {
            octets data = full;
            for (int e = 0; e < 3; ++e) {
                data[rng() % data.size()] = static_cast<std::uint8_t>(rng());
            }
            verdicts.insert(scan_code(data));
        }
    }
    EXPECT_TRUE(verdicts.count("not_openpgp") == 1);
    EXPECT_EQ(verdicts.count("unknown"), 0u);
    // Armored prefixes that end before the END line go through the whole check.
    const auto armored = fixture("alice-ed25519.asc");
    for (std::size_t cut = 0; cut < armored.find("-----END"); cut += 7) {
        const auto r = verify_certificate(armored.substr(0, cut), now);
        EXPECT_FALSE(r.has_value()) << cut;
    }
}

// The attack of the issue: RSA-8192, a public exponent of 8189 bits, 32 self-signed user IDs
// (tests/fixtures/pgp/make-huge-exponent-fixture.py). librnp alone spends seconds verifying it
// while importing; it must be refused before librnp sees it.
TEST(pgp_scan, huge_exponent_certificate_is_refused_at_once) {
    const auto attack = fixture("rsa8192-huge-exponent.asc");
    ASSERT_GT(attack.size(), 50'000u);
    ASSERT_LT(attack.size(), pgp_limits{}.max_certificate_bytes);
    pgp_limits large;
    large.max_rsa_bits = 8192;  // the exponent alone is enough to refuse it
    for (const auto& limits : {pgp_limits{}, large}) {
        const auto start = std::chrono::steady_clock::now();
        const auto r = verify_certificate(attack, now, limits);
        const auto elapsed = std::chrono::steady_clock::now() - start;
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error(), certificate_error::unsupported);
        EXPECT_LT(elapsed, std::chrono::milliseconds(100));
        std::cout << "[          ] refused in "
                  << std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()
                  << " us\n";
    }
}

TEST(pgp_scan, rsa8192_is_accepted_only_when_configured) {
    const auto cert = fixture("rsa8192-e65537.asc");
    const auto refused = verify_certificate(cert, now);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), certificate_error::unsupported);
    pgp_limits large;
    large.max_rsa_bits = 8192;
    const auto r = verify_certificate(cert, now, large);
    ASSERT_TRUE(r.has_value()) << code(r.error());
    EXPECT_EQ(r->fingerprint, fingerprint_of("rsa8192-e65537"));
    EXPECT_EQ(r->bits, 8192u);
    EXPECT_EQ(r->user_ids.size(), 32u);
    // One user ID fewer allowed: the certificate is over the limit before librnp reads it.
    large.max_user_ids = 31;
    const auto over = verify_certificate(cert, now, large);
    ASSERT_FALSE(over.has_value());
    EXPECT_EQ(over.error(), certificate_error::too_large);
}

// --- polyglots: librnp must read the packets the scan read -------------------------------------

// tests/fixtures/pgp/make-huge-exponent-fixture.py: an RSA-2048 key with a 2045-bit exponent,
// armored inside the packets of an outer certificate (a marker packet after a key of unknown
// algorithm 99; a user ID after an ordinary EdDSA key). Handed those packets, librnp found the
// armor header line and imported the inner key, which the scan had never seen.
TEST(pgp_scan, polyglot_certificates_are_refused_at_once) {
    const auto inner = verify_certificate(fixture("rsa2048-huge-exponent.asc"), now);
    ASSERT_FALSE(inner.has_value());
    EXPECT_EQ(inner.error(), certificate_error::unsupported);  // the scan refuses it bare
    pgp_limits large;
    large.max_rsa_bits = 8192;
    for (const auto* name : {"polyglot-marker.asc", "polyglot-user-id.asc"}) {
        const auto data = fixture(name);
        ASSERT_NE(data.find("-----BEGIN PGP"), std::string::npos) << name;
        for (const auto& limits : {pgp_limits{}, large}) {
            const auto start = std::chrono::steady_clock::now();
            const auto r = verify_certificate(data, now, limits);
            const auto elapsed = std::chrono::steady_clock::now() - start;
            ASSERT_FALSE(r.has_value()) << name << " accepted as " << r->fingerprint;
            EXPECT_EQ(r.error(), certificate_error::not_openpgp) << name;
            EXPECT_LT(elapsed, std::chrono::milliseconds(100)) << name;
        }
    }
}

// Each layer on its own: an unknown algorithm, a marker that is not "PGP", a packet that has no
// place in a certificate, and armor text in the packets.
TEST(pgp_scan, unknown_public_key_algorithms_are_refused) {
    const octets filler = cat({{0x01, 0x07, 0x40}, octets(32, 0x11)});
    for (const std::uint8_t known :
         std::initializer_list<std::uint8_t>{18, 19, 22, 25, 26, 27, 28}) {
        shape s;
        s.subkeys = 1;
        s.subkey = cat({v4_key_head(known), filler});
        EXPECT_EQ(scan_code(s.build()), "ok") << int(known);
    }
    for (const std::uint8_t unknown :
         std::initializer_list<std::uint8_t>{0, 4, 15, 21, 23, 24, 29, 99, 100, 110, 255}) {
        shape s;
        s.primary = cat({v4_key_head(unknown), filler});
        EXPECT_EQ(scan_code(s.build()), "unsupported") << int(unknown);
        shape sub;
        sub.subkeys = 1;
        sub.subkey = cat({v4_key_head(unknown), filler});
        EXPECT_EQ(scan_code(sub.build()), "unsupported") << int(unknown);
    }
}

TEST(pgp_scan, marker_body_must_be_pgp) {
    const octets key = shape{}.build();
    EXPECT_EQ(scan_code(cat({new_packet(tag_marker, {'P', 'G', 'P'}), key})), "ok");
    EXPECT_EQ(scan_code(cat({key, new_packet(tag_marker, {'P', 'G', 'P'})})), "ok");
    for (const octets& bad :
         {octets{}, octets{'P', 'G'}, octets{'P', 'G', 'Q'}, octets{'p', 'g', 'p'},
          octets{'P', 'G', 'P', 'P'}, octets{'P', 'G', 'P', '\n'}}) {
        EXPECT_EQ(scan_code(cat({new_packet(tag_marker, bad), key})), "not_openpgp");
        EXPECT_EQ(scan_code(cat({key, new_packet(tag_marker, bad)})), "not_openpgp");
    }
}

TEST(pgp_scan, only_packets_a_certificate_holds) {
    const octets key = shape{}.build();
    // RFC 9580 §10.1, with trust (§5.10) and padding (§5.14), which readers skip.
    EXPECT_EQ(scan_code(cat({key, new_packet(12, {0x00, 0x00})})), "ok");
    EXPECT_EQ(scan_code(cat({key, new_packet(21, octets(16, 0))})), "ok");
    EXPECT_EQ(scan_code(cat({key, new_packet(tag_user_attribute, {1, 2, 3})})), "ok");
    // Message packets: PKESK, SKESK, one-pass signature, compressed, SED, literal, SEIPD, AEAD.
    for (const std::uint8_t message :
         std::initializer_list<std::uint8_t>{1, 3, 4, 8, 9, 11, 18, 20}) {
        EXPECT_EQ(scan_code(cat({key, new_packet(message, {0x01, 0x02, 0x03})})), "no_certificate")
            << int(message);
        EXPECT_EQ(scan_code(new_packet(message, {0x01, 0x02, 0x03})), "no_certificate")
            << int(message);
    }
    // Reserved, obsolete and experimental tags (§5: 15, 16, 19, 22–39 unassigned, 60–63 private).
    for (const std::uint8_t other :
         std::initializer_list<std::uint8_t>{15, 16, 19, 22, 30, 39, 40, 60, 63}) {
        EXPECT_EQ(scan_code(cat({key, new_packet(other, {0x01, 0x02, 0x03})})), "not_openpgp")
            << int(other);
    }
}

TEST(pgp_scan, armor_text_inside_the_packets_is_refused) {
    const std::string armor_line = "\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n";
    const octets text(armor_line.begin(), armor_line.end());
    const octets key = shape{}.build();
    EXPECT_EQ(scan_code(cat({key, new_packet(tag_user_id, text)})), "not_openpgp");
    EXPECT_EQ(scan_code(cat({key, new_packet(12, text)})), "not_openpgp");  // trust
    EXPECT_EQ(scan_code(cat({key, new_packet(21, text)})), "not_openpgp");  // padding
    // After the first KiB too: librnp peeks again before each key it imports.
    shape many;
    many.user_ids = 30;
    EXPECT_EQ(scan_code(cat({many.build(), new_packet(tag_user_id, text)})), "not_openpgp");
    // Other text about PGP is fine.
    const std::string fine = "PGP user -----BEGIN PG <pgp@example.org>";
    EXPECT_EQ(scan_code(cat({key, new_packet(tag_user_id, octets(fine.begin(), fine.end()))})),
              "ok");
    // The polyglots' packets, scanned directly.
    for (const auto* name : {"polyglot-marker.asc", "polyglot-user-id.asc"}) {
        const auto decoded = decode_certificate_input(fixture(name));
        ASSERT_TRUE(decoded.has_value()) << name;
        EXPECT_EQ(scan_code(*decoded), "not_openpgp") << name;
    }
}

// The scan hands on the fingerprint it computed; after the import the checker requires librnp's
// primary key to have it (certificate.cpp), so it must agree with librnp's for real keys.
TEST(pgp_scan, fingerprint_matches_librnp) {
    for (const auto* name :
         {"alice-ed25519", "bob-rsa3072", "openpgpjs-ed25519", "dora-certified"}) {
        const auto decoded = decode_certificate_input(fixture(std::string(name) + ".asc"));
        ASSERT_TRUE(decoded.has_value()) << name;
        const auto scanned = scan_certificate_packets(*decoded, {});
        ASSERT_TRUE(scanned.has_value()) << name;
        EXPECT_EQ(scanned->fingerprint, fingerprint_of(name)) << name;
        EXPECT_EQ(accepted(std::string(name) + ".asc").fingerprint, scanned->fingerprint);
    }
}

// librnp's own view of a key, imported directly (no scan), for the checks made after the import.
detail::key_facts facts_from_librnp(const std::string& name) {
    const auto data = fixture(name + ".asc");
    auto ffi = detail::make_ffi(now);
    auto in = detail::memory_input(detail::as_bytes(data));
    EXPECT_TRUE(ffi && in);
    if (!ffi || !in) return {};
    EXPECT_EQ(rnp_import_keys(ffi->get(), in->get(), RNP_LOAD_SAVE_PUBLIC_KEYS, nullptr),
              RNP_SUCCESS);
    detail::key_handle key;
    EXPECT_EQ(rnp_locate_key(ffi->get(), "fingerprint", fingerprint_of(name).c_str(), key.out()),
              RNP_SUCCESS);
    EXPECT_TRUE(key);
    if (!key) return {};
    return detail::read_key_facts(key.get(), now);
}

TEST(pgp_certificate, rsa_cost_limits_are_checked_again_on_librnp_key_facts) {
    const auto bob = facts_from_librnp("bob-rsa3072");
    EXPECT_EQ(bob.bits, 3072u);
    EXPECT_EQ(bob.rsa_exponent_bits, 17u);  // 65537
    EXPECT_TRUE(bob.rsa_exponent_odd);
    EXPECT_FALSE(detail::exceeds_rsa_cost_limits(bob, 4096));
    EXPECT_TRUE(detail::exceeds_rsa_cost_limits(bob, 3071));
    const auto huge = facts_from_librnp("rsa2048-huge-exponent");
    EXPECT_EQ(huge.bits, 2048u);
    EXPECT_EQ(huge.rsa_exponent_bits, 2045u);
    EXPECT_TRUE(detail::exceeds_rsa_cost_limits(huge, 8192));
    const auto alice = facts_from_librnp("alice-ed25519");
    EXPECT_EQ(alice.rsa_exponent_bits, 0u);
    EXPECT_FALSE(detail::exceeds_rsa_cost_limits(alice, 0));  // not RSA: no such limit
    // The exponent rule at its edges: odd, at least 3 (2 bits), below 2^32 (32 bits).
    auto edge = bob;
    for (const auto& [bits, odd, over] :
         {std::tuple{32u, true, false}, std::tuple{33u, true, true}, std::tuple{2u, true, false},
          std::tuple{1u, true, true}, std::tuple{17u, false, true}}) {
        edge.rsa_exponent_bits = bits;
        edge.rsa_exponent_odd = odd;
        EXPECT_EQ(detail::exceeds_rsa_cost_limits(edge, 4096), over) << bits << " " << odd;
    }
}

}  // namespace
}  // namespace secms::pgp
