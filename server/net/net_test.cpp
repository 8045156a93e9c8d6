#include <gtest/gtest.h>

#include "server/net/websocket_session.hpp"

namespace secms::net {
namespace {

TEST(WebSocketSubprotocol, FindsOursInAList) {
    EXPECT_TRUE(offers_subprotocol("secms.v1"));
    EXPECT_TRUE(offers_subprotocol("chat, secms.v1"));
    EXPECT_TRUE(offers_subprotocol(" secms.v1 ,x"));
    EXPECT_FALSE(offers_subprotocol(""));
    EXPECT_FALSE(offers_subprotocol("secms.v2"));
    EXPECT_FALSE(offers_subprotocol("secms.v1x"));
}

}  // namespace
}  // namespace secms::net
