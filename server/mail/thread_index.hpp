// Conversations of one folder (pure, no I/O): messages grouped JWZ-style by Message-ID,
// In-Reply-To and References; a page of the message list can then be a page of threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace secms::mail {

// Folders larger than this are not threaded (the whole folder's ids are fetched for it).
inline constexpr std::size_t max_threaded_messages = 50'000;

struct thread_input {
    std::uint32_t uid = 0;
    std::string message_id;
    std::string in_reply_to;
    std::vector<std::string> references;
    std::int64_t date_unix = 0;
};

struct thread_member {
    std::uint32_t uid = 0;
    std::uint32_t depth = 0;  // 0 for a message whose parent is not in the folder
};

struct conversation {
    std::uint32_t id = 0;  // uid of the root: the thread's oldest message
    std::int64_t newest = 0;
    std::vector<thread_member> members;  // oldest first
};

// All conversations, the one with the newest message first. A message joins the thread of any
// id it refers to (missing parents tolerated: two replies to a message not in the folder are
// one thread); reference cycles cannot loop.
std::vector<conversation> build_threads(std::span<const thread_input> messages);

}  // namespace secms::mail
