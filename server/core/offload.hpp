// Runs blocking or CPU-heavy work (Argon2id, SQLite, certificate checks) on the work pool and
// resumes the calling coroutine on its own executor, so I/O threads never stall (DESIGN.md §5).
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "server/core/metrics.hpp"

namespace secms::core {

template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> offload(boost::asio::thread_pool& pool, F fn) {
    using result_type = std::invoke_result_t<F&>;
    // co_spawn's completion carries the value by default construction first: wrap in optional.
    std::optional<result_type> out = co_await boost::asio::co_spawn(
        pool,
        [&fn]() -> boost::asio::awaitable<std::optional<result_type>> {
            co_return std::optional<result_type>(fn());
        },
        boost::asio::use_awaitable);
    co_return std::move(*out);
}

// offload() that counts the job in `depth` from the moment it is handed to the pool until it has
// finished: a job waiting behind busy workers is backlog too (secms_hash_queue_depth is "queued
// or running"). Counting inside `fn` would see only the running ones.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> offload_counted(boost::asio::thread_pool& pool,
                                                                 std::atomic<std::int64_t>& depth,
                                                                 F fn) {
    queued_job job(depth);
    co_return co_await offload(pool, std::move(fn));
}

}  // namespace secms::core
