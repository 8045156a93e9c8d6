// Private to the store module: helpers both implementations share so they agree exactly.
#pragma once

#include <string>
#include <string_view>

namespace secms::store::detail {

// The key usernames are unique under: ASCII lowercase, other bytes unchanged. Which names are
// allowed at all (and so whether non-ASCII ever arrives here) is the auth module's decision.
std::string username_key(std::string_view username);

}  // namespace secms::store::detail
