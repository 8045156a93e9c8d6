#include "server/net/tls_context.hpp"

#include <openssl/ssl.h>

namespace secms::net {

namespace ssl = boost::asio::ssl;

std::unique_ptr<ssl::context> make_server_tls_context(const std::filesystem::path& chain,
                                                      const std::filesystem::path& key,
                                                      std::string& error) {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();
    // RFC 8996 deprecates TLS 1.0 and 1.1; SSLv3 and older are long broken.
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
    // TLS 1.2: ECDHE with AEAD only (Mozilla "intermediate" minus DHE). TLS 1.3 suites are AEAD.
    SSL_CTX_set_cipher_list(native,
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256");
    SSL_CTX_set_ciphersuites(native,
                             "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
                             "TLS_AES_128_GCM_SHA256");
    SSL_CTX_set1_groups_list(native, "X25519:P-256:P-384");
    // An idle connection keeps no TLS record buffers (~34 KiB each otherwise); they are taken
    // again for the next record.
    SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(chain.string(), ec);
    if (ec) {
        error =
            "cannot load the TLS certificate chain from " + chain.string() + ": " + ec.message();
        return nullptr;
    }
    ctx->use_private_key_file(key.string(), ssl::context::pem, ec);
    if (ec) {
        error = "cannot load the TLS private key from " + key.string() + ": " + ec.message();
        return nullptr;
    }
    if (SSL_CTX_check_private_key(native) != 1) {
        error = "the TLS private key does not match the certificate";
        return nullptr;
    }
    return ctx;
}

}  // namespace secms::net
