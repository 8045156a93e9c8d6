// Pure parts of the mail protocol layer: outgoing headers, addresses, modified UTF-7, folder
// names and error codes.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "server/mail/imap_session.hpp"
#include "server/mail/mail_error.hpp"
#include "server/mail/message_headers.hpp"

using namespace secms::mail;

TEST(mail_error, codes_match_the_api) {
    EXPECT_EQ(code(mail_error::unavailable), "mail_unavailable");
    EXPECT_EQ(code(mail_error::folder_not_found), "folder_not_found");
    EXPECT_EQ(code(mail_error::from_not_allowed), "from_not_allowed");
    EXPECT_FALSE(message(mail_error::timeout).empty());
}

TEST(outgoing_headers, reads_from_to_cc_bcc_and_message_id) {
    const std::string raw =
        "From: Alice Example <alice@localhost>\r\n"
        "To: bob@localhost, \"Carol C.\" <carol@example.org>\r\n"
        "Cc: Team: dave@example.org, erin@example.org;\r\n"
        "Bcc: frank@example.net\r\n"
        "Message-ID: <abc@localhost>\r\n"
        "Subject: hi\r\n"
        "\r\n"
        "body\r\nFrom: not@header\r\n";
    const auto h = read_outgoing_headers(raw);
    ASSERT_TRUE(h) << code(h.error());
    ASSERT_EQ(h->from.size(), 1u);
    EXPECT_EQ(h->from[0].name, "Alice Example");
    EXPECT_EQ(h->from[0].address, "alice@localhost");
    ASSERT_EQ(h->to.size(), 2u);
    EXPECT_EQ(h->to[1].name, "Carol C.");
    EXPECT_EQ(h->to[1].address, "carol@example.org");
    ASSERT_EQ(h->cc.size(), 2u);
    EXPECT_EQ(h->cc[1].address, "erin@example.org");
    EXPECT_TRUE(h->has_bcc);
    ASSERT_EQ(h->bcc.size(), 1u);
    EXPECT_EQ(h->message_id, "abc@localhost");
    EXPECT_FALSE(h->sender);
}

TEST(outgoing_headers, several_mailboxes_in_from_and_a_sender) {
    const auto h = read_outgoing_headers(
        "From: a@localhost, b@localhost\r\nSender: a@localhost\r\nTo: c@x.org\r\n\r\n");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->from.size(), 2u);
    ASSERT_TRUE(h->sender);
    EXPECT_EQ(h->sender->address, "a@localhost");
    EXPECT_FALSE(h->has_bcc);
}

TEST(outgoing_headers, two_from_fields_are_refused) {
    const auto h = read_outgoing_headers("From: a@localhost\r\nFrom: b@evil.org\r\n\r\nx");
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error(), mail_error::bad_request);
}

TEST(outgoing_headers, folded_header_and_encoded_words) {
    const auto h = read_outgoing_headers(
        "To: x@y.org\r\nFrom:\r\n =?UTF-8?B?w4lsb2TDqWU=?= <elodie@localhost>\r\n\r\nbody");
    ASSERT_TRUE(h) << code(h.error());
    ASSERT_EQ(h->from.size(), 1u);
    EXPECT_EQ(h->from[0].name,
              "\xC3\x89lod\xC3\xA9"
              "e");
    EXPECT_EQ(h->from[0].address, "elodie@localhost");
}

TEST(outgoing_headers, lf_only_lines_are_accepted) {
    const auto h = read_outgoing_headers("From: a@localhost\nTo: b@localhost\n\nbody\n");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->to.at(0).address, "b@localhost");
}

TEST(outgoing_headers, missing_or_unreadable_from_is_refused) {
    EXPECT_EQ(read_outgoing_headers("To: a@b.org\r\n\r\nbody").error(), mail_error::bad_request);
    EXPECT_EQ(read_outgoing_headers("From: \r\nTo: a@b.org\r\n\r\n").error(),
              mail_error::bad_request);
    EXPECT_EQ(read_outgoing_headers("").error(), mail_error::bad_request);
}

TEST(outgoing_headers, nul_and_bare_cr_are_refused) {
    using namespace std::string_literals;
    EXPECT_FALSE(read_outgoing_headers("From: a@localhost\r\nX: a\0b\r\n\r\n"s));
    EXPECT_FALSE(read_outgoing_headers("From: a@localhost\rBcc: x@y.org\r\n\r\n"));
    // In the body they do not matter (the body is not parsed here).
    EXPECT_TRUE(read_outgoing_headers("From: a@localhost\r\n\r\nbody\rmore\0"s));
}

TEST(outgoing_headers, size_and_field_count_limits) {
    std::string big = "From: a@localhost\r\nX-Long: ";
    big.append(300 * 1024, 'a');
    big += "\r\n\r\nbody";
    EXPECT_EQ(read_outgoing_headers(big).error(), mail_error::bad_request);

    std::string many = "From: a@localhost\r\n";
    for (int i = 0; i < 1001; ++i) many += "X-F: 1\r\n";
    many += "\r\n";
    EXPECT_EQ(read_outgoing_headers(many).error(), mail_error::bad_request);

    std::string fine = "From: a@localhost\r\n";
    for (int i = 0; i < 998; ++i) fine += "X-F: 1\r\n";
    fine += "\r\n";
    EXPECT_TRUE(read_outgoing_headers(fine));
    // A big body after a small header is fine.
    std::string big_body = "From: a@localhost\r\n\r\n";
    big_body.append(1024 * 1024, 'b');
    EXPECT_TRUE(read_outgoing_headers(big_body));
}

// Field names that other readers parse differently (a Unicode space trimmed before the colon,
// a line that stops mailimf) could show them another From than the one checked.
TEST(outgoing_headers, refuses_names_that_are_not_ftext_and_lines_without_colon) {
    const std::string tail = "From: alice@localhost\r\nTo: bob@localhost\r\n";
    for (std::string bad : {
             "From\xc2\xa0: carol@localhost\r\n" + tail,      // U+00A0 before the colon
             "From\xef\xbb\xbf: carol@localhost\r\n" + tail,  // U+FEFF
             "\xef\xbb\xbf"
             "From: carol@localhost\r\n" +
                 tail,                                               // BOM in front
             "From\xe3\x80\x80: carol@localhost\r\n" + tail,         // U+3000
             "From : carol@localhost\r\n" + tail,                    // space before colon
             "From\t: carol@localhost\r\n" + tail,                   // tab before colon
             tail + "X-Bad header: x\r\nFROM :carol@localhost\r\n",  // name with a space
             tail + "this line has no colon\r\nFrom : carol@localhost\r\n",
             tail + "no colon here\r\nSender: carol@localhost\r\n",  // mailimf would stop
             ": x\r\n" + tail,                                       // empty name
             " X: folded first\r\n" + tail,                          // continuation first
             tail + " \r\nFrom: carol@localhost\r\n",                // a second From
         }) {
        auto h = read_outgoing_headers(bad + "\r\nbody\r\n");
        ASSERT_FALSE(h) << bad;
        EXPECT_EQ(h.error(), mail_error::bad_request) << bad;
    }
    // 8-bit bytes in a value are fine; only names are ftext.
    EXPECT_TRUE(read_outgoing_headers(tail + "Subject: caf\xc3\xa9\r\n\r\nbody"));
    EXPECT_TRUE(read_outgoing_headers("From:\r\n alice@localhost\r\nX-Y: a\r\n b\r\n\r\nx"));
}

TEST(outgoing_headers, flags_addresses_in_sender_text) {
    auto flagged = [](const std::string& from_line) {
        auto h = read_outgoing_headers(from_line + "\r\nTo: bob@localhost\r\n\r\nbody");
        return h ? h->sender_text_holds_address : true;  // refused outright also counts
    };
    EXPECT_TRUE(flagged("From: \"carol@localhost\" <alice@localhost>"));
    EXPECT_TRUE(flagged("From: carol@localhost <alice@localhost>"));
    EXPECT_TRUE(flagged("From: =?utf-8?q?carol=40localhost?= <alice@localhost>"));
    EXPECT_TRUE(flagged("From: alice@localhost (carol@localhost)"));
    EXPECT_TRUE(flagged("From: <@carol.example:alice@localhost>"));
    EXPECT_TRUE(flagged("From: alice@localhost\r\nSender: \"x@y\" <alice@localhost>"));
    EXPECT_TRUE(flagged("From: alice@localhost\r\nResent-From: \"x@y\" <alice@localhost>"));
    EXPECT_FALSE(flagged("From: Alice Example <alice@localhost>"));
    EXPECT_FALSE(flagged("From: =?utf-8?q?Alice_=C3=89?= <alice@localhost>"));
    EXPECT_FALSE(flagged("From: alice@localhost"));
    // r5 F5: an encoded '@' in a comment, and the characters NFKC makes '@' (U+FF20, U+FE6B),
    // raw or encoded, in a name or a comment.
    EXPECT_TRUE(flagged("From: alice@localhost (=?utf-8?Q?carol=40localhost?=)"));
    EXPECT_TRUE(flagged("From: alice@localhost (=?utf-8?B?Y2Fyb2xAbG9jYWxob3N0?=)"));
    EXPECT_TRUE(flagged("From: alice@localhost (a (nested carol=?utf-8?Q?=40?=x) b)"));
    EXPECT_TRUE(flagged("From: \"carol\xEF\xBC\xA0localhost\" <alice@localhost>"));
    EXPECT_TRUE(flagged("From: \"carol\xEF\xB9\xABlocalhost\" <alice@localhost>"));
    EXPECT_TRUE(flagged("From: =?utf-8?Q?carol=EF=BC=A0localhost?= <alice@localhost>"));
    EXPECT_TRUE(flagged("From: alice@localhost (=?utf-8?Q?carol=EF=B9=ABlocalhost?=)"));
    EXPECT_TRUE(flagged("From: alice@localhost\r\nSender: alice@localhost (=?utf-8?Q?x=40y?=)"));
    EXPECT_FALSE(flagged("From: alice@localhost (Alice at work)"));
    EXPECT_FALSE(flagged("From: \"Alice (in the quoted name)\" <alice@localhost> (work)"));
}

TEST(outgoing_headers, reads_resent_from_and_refuses_unread_sender_fields) {
    auto h = read_outgoing_headers(
        "From: alice@localhost\r\nResent-Date: Mon, 30 Nov 2026 10:00:00 +0000\r\n"
        "Resent-From: carol@localhost\r\n\r\nbody");
    ASSERT_TRUE(h);
    ASSERT_EQ(h->resent_from.size(), 1u);
    EXPECT_EQ(h->resent_from[0].address, "carol@localhost");
    // mailimf (1.9.4) keeps Resent-Sender, and a Sender it cannot read, as unread optional
    // fields: refused rather than passed on unchecked.
    for (const char* bad : {"From: alice@localhost\r\nResent-Sender: dave@localhost\r\n\r\nx",
                            "From: alice@localhost\r\nSender: ,,,\r\n\r\nbody"}) {
        auto refused = read_outgoing_headers(bad);
        ASSERT_FALSE(refused) << bad;
        EXPECT_EQ(refused.error(), mail_error::bad_request);
    }
}

TEST(addresses, valid_address_table) {
    for (const char* good : {"alice@localhost", "a.b-c+tag@example.org", "x@a-b.c.d",
                             "o'neil@example.com", "UPPER@Example.ORG"}) {
        EXPECT_TRUE(valid_address(good)) << good;
    }
    const std::string long_local = std::string(65, 'a') + "@x.org";
    const std::string long_total = "a@" + std::string(250, 'b') + ".org";
    for (const std::string& bad : std::initializer_list<std::string>{"",
                                                                     "alice",
                                                                     "@localhost",
                                                                     "alice@",
                                                                     "a b@x.org",
                                                                     "a@b@c.org",
                                                                     "\"q\"@x.org",
                                                                     "a..b@x.org",
                                                                     ".a@x.org",
                                                                     "a.@x.org",
                                                                     "a@-x.org",
                                                                     "a@x-.org",
                                                                     "a@x..org",
                                                                     "a@[127.0.0.1]",
                                                                     "a@x.org\r\nRCPT TO:<b@y.org>",
                                                                     "<a@x.org>",
                                                                     "a@x_y.org",
                                                                     "\xC3\xA9@x.org",
                                                                     long_local,
                                                                     long_total}) {
        EXPECT_FALSE(valid_address(bad)) << bad;
    }
}

TEST(addresses, lower_domain_keeps_the_local_part) {
    EXPECT_EQ(lower_domain("Alice@LocalHost"), "Alice@localhost");
    EXPECT_EQ(lower_domain("nodomain"), "nodomain");
}

TEST(addresses, decode_words) {
    EXPECT_EQ(decode_words("=?ISO-8859-1?Q?Caf=E9?="), "Caf\xC3\xA9");
    EXPECT_EQ(decode_words("plain text"), "plain text");
}

TEST(modified_utf7, rfc3501_examples_round_trip) {
    // RFC 3501 §5.1.3: "~peter/mail/台北/日本語" ⇄ "~peter/mail/&U,BTFw-/&ZeVnLIqe-".
    const std::string utf8 =
        "~peter/mail/\xE5\x8F\xB0\xE5\x8C\x97/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E";
    const std::string mutf7 = "~peter/mail/&U,BTFw-/&ZeVnLIqe-";
    ASSERT_TRUE(utf8_to_mutf7(utf8));
    EXPECT_EQ(*utf8_to_mutf7(utf8), mutf7);
    ASSERT_TRUE(mutf7_to_utf8(mutf7));
    EXPECT_EQ(*mutf7_to_utf8(mutf7), utf8);
    EXPECT_EQ(*utf8_to_mutf7("Tom & Jerry"), "Tom &- Jerry");
    EXPECT_EQ(*mutf7_to_utf8("Tom &- Jerry"), "Tom & Jerry");
    EXPECT_EQ(*utf8_to_mutf7("Entw\xC3\xBC"
                             "rfe"),
              "Entw&APw-rfe");
    // Outside the BMP: a surrogate pair.
    const std::string emoji = "\xF0\x9F\x93\xA7";
    EXPECT_EQ(*mutf7_to_utf8(*utf8_to_mutf7(emoji)), emoji);
}

TEST(modified_utf7, invalid_input_is_refused) {
    EXPECT_FALSE(mutf7_to_utf8("&U,BTFw"));    // unterminated
    EXPECT_FALSE(mutf7_to_utf8("&AGE-"));      // "a" must not be encoded
    EXPECT_FALSE(mutf7_to_utf8("&2D0-"));      // lone high surrogate
    EXPECT_FALSE(mutf7_to_utf8("a\xC3\xA9"));  // 8-bit is not modified UTF-7
    EXPECT_FALSE(utf8_to_mutf7("\xC3"));       // truncated UTF-8
    EXPECT_FALSE(utf8_to_mutf7("\xC0\xAF"));   // overlong
}

TEST(folder_names, rules) {
    EXPECT_TRUE(valid_folder_path("Projects/2024", '/'));
    EXPECT_TRUE(valid_folder_path("Caf\xC3\xA9", '/'));
    EXPECT_TRUE(valid_folder_path("a.b", '/'));
    EXPECT_FALSE(valid_folder_path("a..b", '.'));
    EXPECT_FALSE(valid_folder_path("", '/'));
    EXPECT_FALSE(valid_folder_path("a//b", '/'));
    EXPECT_FALSE(valid_folder_path("/a", '/'));
    EXPECT_FALSE(valid_folder_path("a/", '/'));
    EXPECT_FALSE(valid_folder_path("a*", '/'));
    EXPECT_FALSE(valid_folder_path("a%", '/'));
    EXPECT_FALSE(valid_folder_path("a\r\nb", '/'));
    EXPECT_FALSE(valid_folder_path("tab\there", '/'));
    EXPECT_FALSE(valid_folder_path(std::string(256, 'a'), '/'));
    EXPECT_TRUE(valid_folder_path(std::string(255, 'a'), '/'));
    EXPECT_FALSE(valid_folder_path("bad\xFF", '/'));
}
