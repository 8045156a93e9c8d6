#include <gtest/gtest.h>

#include "server/mail/imap_session.hpp"

TEST(mail_dovecot, placeholder) {
    SUCCEED();
}
