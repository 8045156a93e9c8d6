#include <gtest/gtest.h>

#include "server/mail/mail_error.hpp"

using namespace secms::mail;

TEST(mail_error, unavailable_has_the_api_code) {
    EXPECT_EQ(code(mail_error::unavailable), "mail_unavailable");
}
