#include "server/mail/tls_verify.hpp"

#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>

#include <memory>

namespace secms::mail::detail {
namespace {

struct x509_deleter {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
struct stack_deleter {
    void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};
struct store_deleter {
    void operator()(X509_STORE* s) const noexcept { X509_STORE_free(s); }
};
struct store_ctx_deleter {
    void operator()(X509_STORE_CTX* c) const noexcept { X509_STORE_CTX_free(c); }
};
struct chain_deleter {
    void operator()(carray* c) const noexcept { mailstream_certificate_chain_free(c); }
};

X509* parse_der(const MMAPString* der) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(der->str);
    return d2i_X509(nullptr, &bytes, static_cast<long>(der->len));
}

}  // namespace

void set_server_name(mailstream_ssl_context* context, void* host_name) {
    auto* host = static_cast<std::string*>(host_name);
    mailstream_ssl_set_server_name(context, host->data());
}

bool peer_verified(mailstream* stream, const std::string& host) {
    const std::unique_ptr<carray, chain_deleter> chain(mailstream_get_certificate_chain(stream));
    if (!chain || carray_count(chain.get()) == 0) return false;
    std::unique_ptr<X509, x509_deleter> leaf(
        parse_der(static_cast<MMAPString*>(carray_get(chain.get(), 0))));
    if (!leaf) return false;
    std::unique_ptr<STACK_OF(X509), stack_deleter> untrusted(sk_X509_new_null());
    if (!untrusted) return false;
    for (unsigned int i = 1; i < carray_count(chain.get()); ++i) {
        X509* cert = parse_der(static_cast<MMAPString*>(carray_get(chain.get(), i)));
        if (cert == nullptr) return false;
        if (sk_X509_push(untrusted.get(), cert) == 0) {
            X509_free(cert);
            return false;
        }
    }
    const std::unique_ptr<X509_STORE, store_deleter> store(X509_STORE_new());
    if (!store || X509_STORE_set_default_paths(store.get()) != 1) return false;
    const std::unique_ptr<X509_STORE_CTX, store_ctx_deleter> context(X509_STORE_CTX_new());
    if (!context ||
        X509_STORE_CTX_init(context.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
        return false;
    }
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(context.get());
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    // An IP literal is checked against the IP SANs, a name against the DNS names.
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1) return false;
    }
    return X509_verify_cert(context.get()) == 1;
}

}  // namespace secms::mail::detail
