// Certificate checks and proof of possession against fixtures made by GnuPG, rnp and OpenPGP.js
// (tests/fixtures/pgp/make-fixtures.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "server/pgp/certificate.hpp"

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

}  // namespace
}  // namespace secms::pgp
