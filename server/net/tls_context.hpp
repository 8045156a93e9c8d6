// The server's TLS configuration: TLS 1.2 and 1.3 only, forward-secret AEAD suites only.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace secms::net {

// Loads the certificate chain and key. On failure returns nullptr and sets `error` to a sentence.
std::unique_ptr<boost::asio::ssl::context> make_server_tls_context(
    const std::filesystem::path& certificate_chain, const std::filesystem::path& private_key,
    std::string& error);

}  // namespace secms::net
