// Test support: a channel::peer that records what it was sent, for unit tests of the channel
// module and of extensions built on it.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/channel/peer.hpp"

namespace secms::channel::testing {

class recording_peer : public peer {
  public:
    void send_text(message_ptr message) override { texts.push_back(*message); }
    void send_binary(message_ptr message) override { binaries.push_back(*message); }
    bool congested() const override { return false; }
    void close(close_reason code, std::string_view) override { closed_with = code; }

    std::vector<std::string> texts;
    std::vector<std::string> binaries;
    std::optional<close_reason> closed_with;

    // The last text message of that type (a test failure when there is none).
    boost::json::object last(std::string_view type) const {
        for (auto it = texts.rbegin(); it != texts.rend(); ++it) {
            auto v = boost::json::parse(*it);
            if (v.at("type").as_string() == type) return v.as_object();
        }
        ADD_FAILURE() << "no message of type " << type;
        return {};
    }

    std::size_t count(std::string_view type) const {
        std::size_t n = 0;
        for (auto& t : texts) n += boost::json::parse(t).at("type").as_string() == type ? 1 : 0;
        return n;
    }
};

}  // namespace secms::channel::testing
