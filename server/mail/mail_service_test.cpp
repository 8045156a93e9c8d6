// Pure parts of the mail service: threads, request parsing, error mapping, recipient split,
// the external-server address check and the settings checks.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "server/mail/mail_request.hpp"
#include "server/mail/mail_routes.hpp"
#include "server/mail/mail_settings.hpp"
#include "server/mail/mail_transport.hpp"
#include "server/mail/thread_index.hpp"

namespace secms::mail {
namespace {

thread_input msg(std::uint32_t uid, std::string id, std::string reply = {},
                 std::vector<std::string> refs = {}, std::int64_t date = 0) {
    return {uid, std::move(id), std::move(reply), std::move(refs), date ? date : uid * 100};
}

std::vector<std::uint32_t> uids_of(const conversation& c) {
    std::vector<std::uint32_t> out;
    for (auto& m : c.members) out.push_back(m.uid);
    return out;
}

TEST(ThreadIndex, GroupsRepliesAndOrdersByNewest) {
    std::vector<thread_input> in{
        msg(1, "<a@x>"),
        msg(2, "<b@x>"),
        msg(3, "<c@x>", "<a@x>", {"<a@x>"}),
        msg(4, "<d@x>", "<c@x>", {"<a@x>", "<c@x>"}),
        msg(5, "<e@x>"),
    };
    auto threads = build_threads(in);
    ASSERT_EQ(threads.size(), 3u);
    EXPECT_EQ(threads[0].id, 5u);
    EXPECT_EQ(uids_of(threads[1]), (std::vector<std::uint32_t>{1, 3, 4}));
    EXPECT_EQ(threads[1].id, 1u);
    EXPECT_EQ(threads[1].members[0].depth, 0u);
    EXPECT_EQ(threads[1].members[1].depth, 1u);
    EXPECT_EQ(threads[1].members[2].depth, 2u);
    EXPECT_EQ(uids_of(threads[2]), (std::vector<std::uint32_t>{2}));
}

TEST(ThreadIndex, MissingParentJoinsSiblings) {
    std::vector<thread_input> in{msg(1, "<r1@x>", "<gone@x>"), msg(2, "<r2@x>", "", {"<gone@x>"}),
                                 msg(3, "<other@x>")};
    auto threads = build_threads(in);
    ASSERT_EQ(threads.size(), 2u);
    EXPECT_EQ(uids_of(threads[1]), (std::vector<std::uint32_t>{1, 2}));
    EXPECT_EQ(threads[1].members[1].depth, 0u);
}

TEST(ThreadIndex, CyclesAndDuplicatesAreSafe) {
    std::vector<thread_input> in{msg(1, "<a@x>", "<b@x>"), msg(2, "<b@x>", "<a@x>"),
                                 msg(3, "<a@x>"), msg(4, "", "", {}),
                                 msg(5, "<self@x>", "<self@x>")};
    auto threads = build_threads(in);
    std::size_t total = 0;
    for (auto& t : threads) total += t.members.size();
    EXPECT_EQ(total, 5u);
    ASSERT_EQ(threads.size(), 3u);  // {1,2,3}, {4}, {5}
}

TEST(ThreadIndex, DateOrdersInsideAThread) {
    std::vector<thread_input> in{msg(10, "<late@x>", "<early@x>", {}, 500),
                                 msg(11, "<early@x>", "", {}, 100)};
    auto threads = build_threads(in);
    ASSERT_EQ(threads.size(), 1u);
    EXPECT_EQ(threads[0].id, 11u);
    EXPECT_EQ(uids_of(threads[0]), (std::vector<std::uint32_t>{11, 10}));
    EXPECT_EQ(threads[0].newest, 500);
}

TEST(ListRequest, DefaultsAndEveryParameter) {
    auto d = parse_list_request("/api/v1/mail/messages");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->folder, "INBOX");
    EXPECT_EQ(d->sort, sort_key::date);
    EXPECT_TRUE(d->descending);
    EXPECT_EQ(d->limit, 50u);
    auto r = parse_list_request(
        "/api/v1/mail/messages?folder=Archive%2F2024&sort=subject&order=asc&offset=50&limit=200"
        "&threads=1&q=bob&from=a&to=b&subject=s&body=x&text=t&since=2024-01-02&before=2024-12-31"
        "&flags=unseen,flagged");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->folder, "Archive/2024");
    EXPECT_EQ(r->sort, sort_key::subject);
    EXPECT_FALSE(r->descending);
    EXPECT_EQ(r->offset, 50u);
    EXPECT_EQ(r->limit, 200u);
    EXPECT_TRUE(r->threads);
    EXPECT_EQ(r->query.quick, "bob");
    EXPECT_EQ(r->query.since, "2024-01-02");
    EXPECT_EQ(r->query.flags, (std::vector<std::string>{"unseen", "flagged"}));
}

TEST(ListRequest, RefusesBadValues) {
    for (const char* target :
         {"/m?sort=colour", "/m?order=up", "/m?limit=201", "/m?limit=0", "/m?offset=-1",
          "/m?threads=2", "/m?since=2024-13-01", "/m?before=yesterday", "/m?flags=seen,odd",
          "/m?folder=a%2A", "/m?folder=a//b", "/m?folder=a%0Ab", "/m?sort=date&sort=size",
          "/m?q=a%0Db"}) {
        EXPECT_FALSE(parse_list_request(target)) << target;
    }
}

TEST(SendRequest, RecipientsAndDraft) {
    auto r = parse_send_request("/s?to=bob%40LocalHost&to=eve%40example.org&draft_uid=7", 100);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->to, (std::vector<std::string>{"bob@localhost", "eve@example.org"}));
    EXPECT_EQ(r->draft_uid, 7u);
    EXPECT_FALSE(parse_send_request("/s", 100));
    EXPECT_FALSE(parse_send_request("/s?to=not-an-address", 100));
    EXPECT_FALSE(parse_send_request("/s?to=a%40x.org&to=b%40x.org", 1));
    EXPECT_FALSE(parse_send_request("/s?to=a%40x.org&draft_uid=0", 10));
    EXPECT_FALSE(parse_send_request("/s?to=a%40x.org%0D%0ARCPT", 10));
}

TEST(AppendRequest, FoldersAndFlags) {
    auto r = parse_append_request("/a?folder=Drafts&flags=%5CDraft,%5CSeen");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->flags, (std::vector<std::string>{"\\Draft", "\\Seen"}));
    EXPECT_FALSE(parse_append_request("/a?folder=Drafts&flags=%5CRecent"));
}

TEST(JsonLists, UidsAndFlags) {
    auto uids = boost::json::parse("[3,1,3,2]");
    auto parsed = uid_list(&uids);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, (std::vector<std::uint32_t>{1, 2, 3}));
    for (const char* bad : {"[]", "[0]", "[-1]", "[4294967296]", "[\"1\"]", "{}", "[1.5]"}) {
        auto v = boost::json::parse(bad);
        EXPECT_FALSE(uid_list(&v)) << bad;
    }
    boost::json::array many;
    for (int i = 1; i <= 1001; ++i) many.push_back(i);
    boost::json::value big = many;
    EXPECT_FALSE(uid_list(&big));
    auto flags = boost::json::parse(R"(["\\Seen","$Junk"])");
    EXPECT_TRUE(flag_list(&flags));
    auto bad = boost::json::parse(R"(["\\Recent"])");
    EXPECT_FALSE(flag_list(&bad));
}

TEST(Recipients, SplitByDomain) {
    std::vector<std::string> rcpts{"Bob@LOCALHOST", "eve@example.org", "x+y@localhost"};
    auto split = split_recipients(rcpts, "localhost");
    ASSERT_TRUE(split);
    EXPECT_EQ(split->local, (std::vector<std::string>{"bob@localhost", "x+y@localhost"}));
    EXPECT_EQ(split->usernames, (std::vector<std::string>{"bob", ""}));  // "+" is no user name
    EXPECT_EQ(split->external, (std::vector<std::string>{"eve@example.org"}));
    std::vector<std::string> bad{"nobody"};
    EXPECT_FALSE(split_recipients(bad, "localhost"));
    EXPECT_TRUE(same_address("alice@LocalHost", "alice@localhost"));
    EXPECT_EQ(address_of("Alice", "LocalHost"), "alice@localhost");
}

TEST(ExternalHosts, PrivateAddressesAreRefused) {
    using boost::asio::ip::make_address;
    for (const char* a : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                          "169.254.169.254", "0.0.0.0", "224.0.0.1", "100.64.0.1", "::1", "::",
                          "fe80::1", "fd00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"}) {
        EXPECT_FALSE(public_address(make_address(a))) << a;
    }
    for (const char* a : {"8.8.8.8", "172.32.0.1", "2001:4860:4860::8888", "::ffff:1.1.1.1"}) {
        EXPECT_TRUE(public_address(make_address(a))) << a;
    }
}

// With Maildir LAYOUT=fs a folder is a directory beside its parent's own files and directories.
TEST(FolderNames, NamesOfMaildirFilesAreReserved) {
    for (const char* bad : {"cur", "NEW", "Tmp", "a/cur", "cur/b", "dovecot.index",
                            "Dovecot-uidlist", "x/dovecot.index.cache", ".hidden", "a/.b",
                            "maildirfolder", "Subscriptions", "dovecot"}) {
        EXPECT_TRUE(reserved_folder_name(bad)) << bad;
    }
    for (const char* good : {"Archive/2024", "current", "news", "a.b", "tmpl", "x/my.dovecot",
                             "Projects/new plan", "INBOX/Sub"}) {
        EXPECT_FALSE(reserved_folder_name(good)) << good;
    }
}

// Ranges that reach an IPv4 address through IPv6 (the embedded address decides), and IPv4 ranges
// that are not the public internet.
TEST(ExternalHosts, EmbeddedAndSpecialRangesAreRefused) {
    using boost::asio::ip::make_address;
    for (const char* a : {"::127.0.0.1",
                          "::8.8.8.8",
                          "::ffff:0:127.0.0.1",
                          "::ffff:0:10.0.0.1",
                          "64:ff9b::7f00:1",
                          "64:ff9b::a00:1",
                          "64:ff9b::c0a8:101",
                          "64:ff9b:1::808:808",
                          "2002:7f00:1::1",
                          "2002:a00:1::1",
                          "2002:c0a8:101::1",
                          "2001:0:4136:e378:8000:63bf:3fff:fdd2",
                          "198.18.0.1",
                          "198.19.255.255",
                          "100.64.0.1",
                          "100.127.255.255",
                          "0.1.2.3",
                          "240.0.0.1",
                          "255.255.255.255",
                          "192.0.0.1",
                          "192.0.2.1",
                          "198.51.100.1",
                          "203.0.113.1"}) {
        EXPECT_FALSE(public_address(make_address(a))) << a;
    }
    for (const char* a : {"::ffff:0:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "198.20.0.1",
                          "100.128.0.1", "198.17.255.255", "192.0.1.1"}) {
        EXPECT_TRUE(public_address(make_address(a))) << a;
    }
}

TEST(ErrorMapping, EveryErrorHasItsStatus) {
    using s = http::beast_http::status;
    EXPECT_EQ(status_for(mail_error::not_enabled), s::not_found);
    EXPECT_EQ(status_for(mail_error::bad_request), s::bad_request);
    EXPECT_EQ(status_for(mail_error::folder_not_found), s::not_found);
    EXPECT_EQ(status_for(mail_error::message_not_found), s::not_found);
    EXPECT_EQ(status_for(mail_error::folder_protected), s::conflict);
    EXPECT_EQ(status_for(mail_error::folder_exists), s::conflict);
    EXPECT_EQ(status_for(mail_error::too_large), s::payload_too_large);
    EXPECT_EQ(status_for(mail_error::rate_limited), s::too_many_requests);
    EXPECT_EQ(status_for(mail_error::from_not_allowed), s::forbidden);
    EXPECT_EQ(status_for(mail_error::unknown_recipient), s::unprocessable_entity);
    EXPECT_EQ(status_for(mail_error::no_smarthost), s::unprocessable_entity);
    EXPECT_EQ(status_for(mail_error::send_failed), s::bad_gateway);
    EXPECT_EQ(status_for(mail_error::unavailable), s::service_unavailable);
    EXPECT_EQ(status_for(mail_error::timeout), s::gateway_timeout);
    EXPECT_EQ(status_for(mail_error::external_refused), s::unprocessable_entity);
    auto res = error_response(mail_error::unavailable, 11);
    EXPECT_NE(res.body().find("\"mail_unavailable\""), std::string::npos);
    EXPECT_NE(res.body().find("nothing was changed"), std::string::npos);
}

TEST(Settings, WordsDomainsAndLoopback) {
    EXPECT_EQ(parse_tls_mode("starttls"), tls_mode::starttls);
    EXPECT_FALSE(parse_tls_mode("ssl"));
    EXPECT_TRUE(valid_domain("localhost"));
    EXPECT_TRUE(valid_domain("mail.example.org"));
    for (const char* d : {"", "a..b", "-a.org", "a-.org", "a_b.org", "a b", "x.org."})
        EXPECT_FALSE(valid_domain(d)) << d;
    EXPECT_TRUE(is_loopback_host("localhost"));
    EXPECT_TRUE(is_loopback_host("127.0.0.2"));
    EXPECT_TRUE(is_loopback_host("::1"));
    EXPECT_FALSE(is_loopback_host("10.0.0.1"));
    EXPECT_FALSE(is_loopback_host("smtp.example.org"));
}

// A loopback listener that counts the connections it was offered (r5 F4: nothing may reach an
// internal address through an external account's host name).
class loopback_listener {
  public:
    loopback_listener() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 8) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            ADD_FAILURE() << "cannot listen on 127.0.0.1";
        }
        port_ = ntohs(a.sin_port);
    }
    ~loopback_listener() { ::close(fd_); }
    std::uint16_t port() const { return port_; }
    int accepted() {
        int n = 0;
        for (int c; (c = ::accept(fd_, nullptr, nullptr)) >= 0; ++n) ::close(c);
        return n;
    }

  private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

TEST(ResolveChecked, EveryAddressIsCheckedOnceAndReturned) {
    auto loopback = resolve_checked("127.0.0.1", public_address);
    ASSERT_FALSE(loopback);
    EXPECT_EQ(loopback.error(), mail_error::external_refused);
    auto localhost = resolve_checked("localhost", public_address);
    ASSERT_FALSE(localhost);
    EXPECT_EQ(localhost.error(), mail_error::external_refused);
    auto mapped = resolve_checked("::ffff:10.0.0.1", public_address);
    ASSERT_FALSE(mapped);
    EXPECT_EQ(mapped.error(), mail_error::external_refused);
    auto public_v4 = resolve_checked("8.8.8.8", public_address);
    ASSERT_TRUE(public_v4);
    ASSERT_EQ(public_v4->size(), 1u);
    EXPECT_EQ((*public_v4)[0].to_string(), "8.8.8.8");
    auto unknown = resolve_checked("no-such-name.invalid", public_address);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error(), mail_error::unavailable);
    // No check given: nothing is allowed (the guard is never skipped by an empty function).
    EXPECT_FALSE(resolve_checked("8.8.8.8", address_check{}));
}

TEST(ResolveChecked, GuardedConnectionsNeverReachARefusedAddress) {
    loopback_listener internal;
    auto refused =
        connect_tcp("localhost", internal.port(), public_address, std::chrono::seconds(2));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), mail_error::external_refused);
    imap_endpoint imap{"localhost", internal.port(), tls_mode::tls, std::chrono::seconds(2),
                       public_address};
    auto session = imap_session::open(imap, "user", core::secret_string(std::string("pw")));
    ASSERT_FALSE(session);
    EXPECT_EQ(session.error(), mail_error::external_refused);
    transport_endpoint smtp;
    smtp.host = "127.0.0.1";
    smtp.port = internal.port();
    smtp.tls = tls_mode::tls;
    smtp.timeout = std::chrono::seconds(2);
    smtp.username = "user";
    smtp.password = core::secret_string(std::string("pw"));
    smtp.address_allowed = public_address;
    auto checked = check_smtp_login(smtp);
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error(), mail_error::external_refused);
    EXPECT_EQ(internal.accepted(), 0);
    // Without a guard (the local Dovecot, a smarthost) the name is used as it resolves.
    auto local = connect_tcp("127.0.0.1", internal.port(), nullptr, std::chrono::seconds(2));
    ASSERT_TRUE(local);
    ::close(*local);
    EXPECT_EQ(internal.accepted(), 1);
}

}  // namespace
}  // namespace secms::mail
