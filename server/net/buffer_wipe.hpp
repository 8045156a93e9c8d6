// Wiping what a connection's read buffer held: the request bytes parsed out of a Beast
// flat_buffer stay in its storage (consume() only moves a pointer) until later reads overwrite
// them. After a request that carried a password, the whole storage is wiped, the bytes not yet
// parsed (a pipelined next request) kept.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <string>

#include "server/core/secure_bytes.hpp"

namespace secms::net {

inline void wipe_read_buffer(boost::beast::flat_buffer& buffer) {
    std::string unread(buffer.size(), '\0');
    boost::asio::buffer_copy(boost::asio::buffer(unread), buffer.data());
    buffer.clear();  // readable and writable areas now start at the storage's beginning
    auto whole = buffer.prepare(buffer.capacity());
    core::wipe(whole.data(), whole.size());
    buffer.clear();
    buffer.commit(
        boost::asio::buffer_copy(buffer.prepare(unread.size()), boost::asio::buffer(unread)));
    core::wipe(unread.data(), unread.size());
}

}  // namespace secms::net
