// Runs blocking or CPU-heavy work (Argon2id, SQLite, certificate checks) on the work pool and
// resumes the calling coroutine on its own executor, so I/O threads never stall (DESIGN.md §5).
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>
#include <type_traits>

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

}  // namespace secms::core
