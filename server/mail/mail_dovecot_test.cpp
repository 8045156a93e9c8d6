// The protocol clients against a real Dovecot. The ports and master secret come from the
// environment (tests/integration/mail-client.test.mjs starts the Dovecot and runs this binary):
// SECMS_TEST_IMAP_PORT, SECMS_TEST_LMTP_PORT, SECMS_TEST_MASTER_SECRET, optional
// SECMS_TEST_MASTER_USER (default "secms") and SECMS_TEST_MAIL_DOMAIN (default "localhost").
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>

#include "server/core/secure_bytes.hpp"
#include "server/mail/imap_session.hpp"
#include "server/mail/mail_transport.hpp"

using namespace secms;
using namespace secms::mail;
using namespace std::chrono_literals;

namespace {

std::string env(const char* name, const char* fallback = nullptr) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return v;
    if (fallback != nullptr) return fallback;
    ADD_FAILURE() << name << " is not set: run tests/integration/mail-client.test.mjs";
    return "";
}

std::uint16_t port(const char* name) {
    const auto v = env(name);
    return v.empty() ? 0 : static_cast<std::uint16_t>(std::stoi(v));
}

std::string random_user() {
    std::random_device rd;
    return "user" + std::to_string(rd() % 1000000000u);
}

class dovecot : public ::testing::Test {
  protected:
    void SetUp() override {
        imap_.host = "127.0.0.1";
        imap_.port = port("SECMS_TEST_IMAP_PORT");
        imap_.timeout = 10s;
        lmtp_.host = "127.0.0.1";
        lmtp_.port = port("SECMS_TEST_LMTP_PORT");
        lmtp_.tls = tls_mode::none;
        lmtp_.timeout = 10s;
        secret_ = env("SECMS_TEST_MASTER_SECRET");
        master_ = env("SECMS_TEST_MASTER_USER", "secms");
        domain_ = env("SECMS_TEST_MAIL_DOMAIN", "localhost");
        user_ = random_user();
        address_ = user_ + "@" + domain_;
        ASSERT_FALSE(HasFailure());
    }

    imap_session login() {
        auto s = imap_session::open(imap_, user_ + "*" + master_, core::secret_string(secret_));
        EXPECT_TRUE(s) << (s ? "" : code(s.error()));
        if (!s) std::abort();
        return std::move(s).value();
    }

    void deliver(const std::string& raw) {
        const std::string to[] = {address_};
        const auto r = deliver_lmtp(lmtp_, "sender@example.org", to, raw);
        ASSERT_TRUE(r) << code(r.error());
        ASSERT_EQ(r->size(), 1u);
        ASSERT_TRUE(r->at(0).accepted) << r->at(0).reply;
    }

    imap_endpoint imap_;
    transport_endpoint lmtp_;
    std::string secret_, master_, domain_, user_, address_;
};

const std::string first_message =
    "From: =?UTF-8?B?w4lsb2TDqWU=?= <elodie@example.org>\r\n"
    "To: someone@localhost\r\n"
    "Subject: =?UTF-8?Q?Caf=C3=A9_order?=\r\n"
    "Date: Mon, 01 Jan 2024 10:00:00 +0100\r\n"
    "Message-ID: <one@example.org>\r\n"
    "\r\n"
    "first body\r\n"
    ".leading dot line\r\n";
const std::string second_message =
    "From: Bob <bob@example.org>\r\n"
    "To: someone@localhost\r\n"
    "Subject: Zebra report\r\n"
    "Date: Wed, 10 Jan 2024 10:00:00 +0000\r\n"
    "Message-ID: <two@example.org>\r\n"
    "In-Reply-To: <one@example.org>\r\n"
    "References: <zero@example.org>\r\n <one@example.org>\r\n"
    "\r\n"
    "second body\r\n";
const std::string third_message =
    "From: Carol <carol@example.org>\r\n"
    "To: someone@localhost\r\n"
    "Subject: Apples attached\r\n"
    "Date: Fri, 05 Jan 2024 10:00:00 +0000\r\n"
    "Message-ID: <three@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "see attached\r\n"
    "--b1\r\n"
    "Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
    "Content-Disposition: attachment; filename=\"a.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAECAw==\r\n"
    "--b1--\r\n";

std::string body_of(const std::string& raw) {
    const auto pos = raw.find("\r\n\r\n");
    return pos == std::string::npos ? "" : raw.substr(pos + 4);
}

bool readable(int fd, std::chrono::milliseconds wait) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) > 0;
}

}  // namespace

TEST_F(dovecot, wrong_master_secret_is_a_login_failure) {
    const auto s = imap_session::open(imap_, user_ + "*" + master_, core::secret_string("nope"));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), mail_error::login_failed);
}

TEST_F(dovecot, folders_with_special_use_and_folder_management) {
    auto s = login();
    EXPECT_TRUE(s.has_capability("IDLE"));
    auto folders = s.folders();
    ASSERT_TRUE(folders) << code(folders.error());
    const auto find = [&](std::string_view path) -> const folder_info* {
        for (const auto& f : *folders) {
            if (f.path == path) return &f;
        }
        return nullptr;
    };
    ASSERT_NE(find("INBOX"), nullptr);
    EXPECT_EQ(find("INBOX")->use, special_use::inbox);
    ASSERT_NE(find("Sent"), nullptr);
    EXPECT_EQ(find("Sent")->use, special_use::sent);
    EXPECT_EQ(find("Drafts")->use, special_use::drafts);
    EXPECT_EQ(find("Trash")->use, special_use::trash);
    EXPECT_EQ(find("Junk")->use, special_use::junk);
    EXPECT_EQ(find("Archive")->use, special_use::archive);
    EXPECT_TRUE(find("Sent")->subscribed);

    const std::string name = "Projets/\xC3\xA9t\xC3\xA9 & co";
    ASSERT_TRUE(s.create_folder("Projets"));
    ASSERT_TRUE(s.create_folder(name));
    EXPECT_EQ(s.create_folder(name).error(), mail_error::folder_exists);
    EXPECT_EQ(s.create_folder("bad*name").error(), mail_error::bad_request);
    folders = s.folders();
    ASSERT_TRUE(folders);
    ASSERT_NE(find(name), nullptr);
    EXPECT_EQ(find(name)->name, "\xC3\xA9t\xC3\xA9 & co");
    EXPECT_EQ(find(name)->delimiter, '/');
    EXPECT_TRUE(find(name)->subscribed);

    ASSERT_TRUE(s.rename_folder(name, "Projets/Hiver"));
    EXPECT_EQ(s.rename_folder("Sent", "Other").error(), mail_error::folder_protected);
    EXPECT_EQ(s.delete_folder("INBOX").error(), mail_error::folder_protected);
    EXPECT_EQ(s.delete_folder("Nope").error(), mail_error::folder_not_found);
    ASSERT_TRUE(s.subscribe("Projets/Hiver", false));
    folders = s.folders();
    ASSERT_TRUE(folders);
    EXPECT_EQ(find(name), nullptr);
    ASSERT_NE(find("Projets/Hiver"), nullptr);
    EXPECT_FALSE(find("Projets/Hiver")->subscribed);
    ASSERT_TRUE(s.delete_folder("Projets/Hiver"));
    folders = s.folders();
    ASSERT_TRUE(folders);
    EXPECT_EQ(find("Projets/Hiver"), nullptr);
    EXPECT_EQ(s.select("Nope").error(), mail_error::folder_not_found);
}

TEST_F(dovecot, deliver_sort_search_fetch_flags_move_append) {
    deliver(first_message);
    deliver(second_message);
    deliver(third_message);
    auto s = login();
    const auto selected = s.select("INBOX");
    ASSERT_TRUE(selected) << code(selected.error());
    EXPECT_EQ(selected->exists, 3u);
    EXPECT_NE(selected->uidvalidity, 0u);

    const auto uids_of = [&](sort_key key, bool descending, const search_query& q) {
        auto r = s.sorted_uids(key, descending, q);
        EXPECT_TRUE(r) << (r ? "" : code(r.error()));
        return r ? *r : std::vector<std::uint32_t>{0xFFFFFFFF};
    };
    const auto by_date = s.sorted_uids(sort_key::date, true, {});
    ASSERT_TRUE(by_date) << code(by_date.error());
    ASSERT_EQ(by_date->size(), 3u);
    EXPECT_EQ(*by_date, (std::vector<std::uint32_t>{2, 3, 1}));
    const auto by_subject = s.sorted_uids(sort_key::subject, true, {});
    ASSERT_TRUE(by_subject);
    EXPECT_EQ(*by_subject, (std::vector<std::uint32_t>{2, 1, 3}));  // Zebra, Café, Apples
    const auto by_arrival = s.sorted_uids(sort_key::arrival, false, {});
    ASSERT_TRUE(by_arrival);
    EXPECT_EQ(*by_arrival, (std::vector<std::uint32_t>{1, 2, 3}));

    search_query quick;
    quick.quick = "zebra";
    EXPECT_EQ(uids_of(sort_key::date, true, quick), (std::vector<std::uint32_t>{2}));
    quick.quick = "carol";
    EXPECT_EQ(uids_of(sort_key::date, true, quick), (std::vector<std::uint32_t>{3}));
    search_query from;
    from.from = "bob@example.org";
    EXPECT_EQ(uids_of(sort_key::date, true, from), (std::vector<std::uint32_t>{2}));
    search_query since;
    since.since = "2024-01-04";
    EXPECT_EQ(uids_of(sort_key::date, true, since), (std::vector<std::uint32_t>{2, 3}));
    search_query unicode;
    unicode.subject = "Caf\xC3\xA9";
    EXPECT_EQ(uids_of(sort_key::date, true, unicode), (std::vector<std::uint32_t>{1}));
    search_query bad_date;
    bad_date.before = "2024-13-01";
    EXPECT_EQ(s.sorted_uids(sort_key::date, true, bad_date).error(), mail_error::bad_request);
    search_query injection;
    injection.text = "x\r\nA1 LOGOUT";
    EXPECT_EQ(s.sorted_uids(sort_key::date, true, injection).error(), mail_error::bad_request);

    const std::uint32_t wanted[] = {3, 1, 2, 99};
    const auto summaries = s.summaries(wanted);
    ASSERT_TRUE(summaries) << code(summaries.error());
    ASSERT_EQ(summaries->size(), 3u);
    const auto& third = summaries->at(0);
    const auto& first = summaries->at(1);
    const auto& second = summaries->at(2);
    EXPECT_EQ(third.uid, 3u);
    EXPECT_EQ(first.subject, "Caf\xC3\xA9 order");
    ASSERT_EQ(first.from.size(), 1u);
    EXPECT_EQ(first.from[0].name,
              "\xC3\x89lod\xC3\xA9"
              "e");
    EXPECT_EQ(first.from[0].address, "elodie@example.org");
    EXPECT_EQ(first.date_iso, "2024-01-01T09:00:00Z");
    EXPECT_EQ(first.date_unix, 1704099600);
    EXPECT_EQ(first.message_id, "<one@example.org>");
    EXPECT_EQ(first.content_type, "text/plain");
    EXPECT_FALSE(first.has_attachment);
    EXPECT_GT(first.size, first_message.size());
    EXPECT_EQ(second.in_reply_to, "<one@example.org>");
    EXPECT_EQ(second.references,
              (std::vector<std::string>{"<zero@example.org>", "<one@example.org>"}));
    EXPECT_EQ(third.content_type, "multipart/mixed");
    EXPECT_TRUE(third.has_attachment);
    EXPECT_TRUE(first.flags.empty() ||
                std::find(first.flags.begin(), first.flags.end(), "\\Seen") == first.flags.end());

    const auto raw = s.raw_message(1, 1 << 20);
    ASSERT_TRUE(raw) << code(raw.error());
    EXPECT_EQ(body_of(*raw), body_of(first_message));
    EXPECT_NE(raw->find("Subject: =?UTF-8?Q?Caf=C3=A9_order?="), std::string::npos);
    EXPECT_EQ(s.raw_message(1, 10).error(), mail_error::too_large);
    EXPECT_EQ(s.raw_message(99, 1 << 20).error(), mail_error::message_not_found);
    // BODY.PEEK: still unseen.
    const std::uint32_t one[] = {1};
    auto after = s.summaries(one);
    ASSERT_TRUE(after);
    EXPECT_EQ(std::count(after->at(0).flags.begin(), after->at(0).flags.end(), "\\Seen"), 0);

    const std::string add[] = {"\\Seen", "\\Flagged", "$Forwarded"};
    ASSERT_TRUE(s.store_flags(one, add, {}));
    const std::string remove[] = {"\\Flagged"};
    ASSERT_TRUE(s.store_flags(one, {}, remove));
    after = s.summaries(one);
    ASSERT_TRUE(after);
    const auto& flags = after->at(0).flags;
    EXPECT_EQ(std::count(flags.begin(), flags.end(), "\\Seen"), 1);
    EXPECT_EQ(std::count(flags.begin(), flags.end(), "\\Flagged"), 0);
    EXPECT_EQ(std::count(flags.begin(), flags.end(), "$Forwarded"), 1);
    const std::string bad_flag[] = {"\\Recent"};
    EXPECT_EQ(s.store_flags(one, bad_flag, {}).error(), mail_error::bad_request);
    search_query seen;
    seen.flags = {"seen"};
    EXPECT_EQ(uids_of(sort_key::date, true, seen), (std::vector<std::uint32_t>{1}));
    seen.flags = {"unseen"};
    EXPECT_EQ(uids_of(sort_key::date, true, seen).size(), 2u);
    auto unseen = s.unseen_count("INBOX");
    ASSERT_TRUE(unseen);
    EXPECT_EQ(*unseen, 2u);

    const std::uint32_t two[] = {2};
    ASSERT_TRUE(s.move(two, "Archive", true));  // copy
    const std::uint32_t three[] = {3};
    ASSERT_TRUE(s.move(three, "Trash", false));  // move
    EXPECT_EQ(s.move(two, "Nope", false).error(), mail_error::folder_not_found);
    EXPECT_EQ(uids_of(sort_key::arrival, false, {}).size(), 2u);
    const auto archive = s.select("Archive");
    ASSERT_TRUE(archive);
    EXPECT_EQ(archive->exists, 1u);
    const auto trash = s.select("Trash");
    ASSERT_TRUE(trash);
    EXPECT_EQ(trash->exists, 1u);
    const std::string deleted[] = {"\\Deleted"};
    ASSERT_TRUE(s.store_flags(one, deleted, {}));
    ASSERT_TRUE(s.expunge(one));
    EXPECT_EQ(uids_of(sort_key::arrival, false, {}).size(), 0u);

    const std::string draft = "From: " + address_ + "\r\nSubject: draft\r\n\r\nhello\r\n";
    const std::string draft_flags[] = {"\\Draft", "\\Seen"};
    const auto appended = s.append("Drafts", draft, draft_flags);
    ASSERT_TRUE(appended) << code(appended.error());
    ASSERT_TRUE(appended->has_value());
    ASSERT_TRUE(s.select("Drafts"));
    const std::uint32_t draft_uid[] = {**appended};
    const auto draft_raw = s.raw_message(**appended, 1 << 20);
    ASSERT_TRUE(draft_raw);
    EXPECT_EQ(*draft_raw, draft);
    EXPECT_EQ(s.append("Nope", draft, {}).error(), mail_error::folder_not_found);
    (void)draft_uid;
}

TEST_F(dovecot, idle_sees_a_delivery) {
    auto s = login();
    ASSERT_TRUE(s.select("INBOX"));
    ASSERT_TRUE(s.idle_start());
    const int fd = s.idle_fd();
    ASSERT_GE(fd, 0);
    EXPECT_EQ(s.idle_poll(), idle_event::none);
    deliver(first_message);
    idle_event seen = idle_event::none;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (seen == idle_event::none && std::chrono::steady_clock::now() < deadline) {
        if (readable(fd, 500ms)) seen = s.idle_poll();
    }
    EXPECT_EQ(seen, idle_event::changed);
    ASSERT_TRUE(s.idle_done());
    // The connection still works after DONE.
    const auto info = s.select("INBOX");
    ASSERT_TRUE(info);
    EXPECT_EQ(s.sorted_uids(sort_key::arrival, false, {})->size(), 1u);
}

TEST_F(dovecot, lmtp_refuses_unknown_domains_per_recipient) {
    const std::string to[] = {address_, "nobody@unknown-domain.example"};
    const auto r = deliver_lmtp(lmtp_, "", to, first_message);
    ASSERT_TRUE(r) << code(r.error());
    ASSERT_EQ(r->size(), 2u);
    EXPECT_TRUE(r->at(0).accepted) << r->at(0).reply;
    EXPECT_FALSE(r->at(1).accepted);
    EXPECT_FALSE(r->at(1).reply.empty());
    const std::string bad[] = {"a@b.org>\r\nRCPT TO:<c@d.org"};
    EXPECT_EQ(deliver_lmtp(lmtp_, "", bad, first_message).error(), mail_error::bad_request);
}

// A server that accepts the connection and never says anything: every step is bounded.
TEST(mail_timeouts, silent_server_times_out) {
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener, 8), 0);
    socklen_t length = sizeof addr;
    ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &length), 0);
    imap_endpoint endpoint{"127.0.0.1", ntohs(addr.sin_port), tls_mode::none, 2s};
    const auto start = std::chrono::steady_clock::now();
    const auto s = imap_session::open(endpoint, "u", core::secret_string("p"));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), mail_error::timeout);
    EXPECT_LT(elapsed, 5s);
    EXPECT_GE(elapsed, 1500ms);

    transport_endpoint smtp;
    smtp.host = "127.0.0.1";
    smtp.port = ntohs(addr.sin_port);
    smtp.tls = tls_mode::none;
    smtp.timeout = 2s;
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = check_smtp_login(smtp);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), mail_error::timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    ::close(listener);
}

TEST(mail_timeouts, closed_port_is_unavailable) {
    imap_endpoint endpoint{"127.0.0.1", 1, tls_mode::none, 2s};
    const auto s = imap_session::open(endpoint, "u", core::secret_string("p"));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), mail_error::unavailable);
}
