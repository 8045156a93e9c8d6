#include "server/auth/accounts.hpp"

#include "server/auth/credentials.hpp"

namespace secms::auth {

namespace {

auth_error from_store(store::store_error e) {
    switch (e) {
        case store::store_error::username_taken:
            return auth_error::username_taken;
        case store::store_error::not_found:
            return auth_error::invalid_credentials;
        case store::store_error::unavailable:
        case store::store_error::corrupt:
            return auth_error::unavailable;
        case store::store_error::full:
            return auth_error::storage_full;
    }
    return auth_error::unavailable;
}

}  // namespace

account_service::account_service(store::user_store& users, const password_hasher& hasher,
                                 const core::clock& clock)
    : users_(users), hasher_(hasher), clock_(clock) {}

core::result<store::user_record, auth_error> account_service::register_user(
    std::string_view username, const core::secret_string& password, store::role role) {
    if (auto ok = check_username(username); !ok) return core::fail(ok.error());
    if (auto ok = check_password(password.reveal()); !ok) return core::fail(ok.error());
    auto hashed = hasher_.hash(password);
    if (!hashed) return core::fail(hashed.error());
    if (eraser_) {
        // Only a free name: an existing account's data is never touched by a registration.
        auto existing = users_.find_by_name(username);
        if (existing) return core::fail(auth_error::username_taken);
        if (existing.error() != store::store_error::not_found) {
            return core::fail(from_store(existing.error()));
        }
        if (!eraser_(0, username)) return core::fail(auth_error::mail_unavailable);
    }
    store::new_user user{std::string(username), std::move(hashed->encoded), hashed->pepper_version,
                         role, clock_.unix_now()};
    auto created = users_.create(user);
    if (!created) return core::fail(from_store(created.error()));
    return std::move(created).value();
}

core::result<bool, auth_error> account_service::password_matches(
    const store::user_record& user, const core::secret_string& password) {
    auto matches = hasher_.verify(password, user.password_hash, user.pepper_version);
    if (!matches) return core::fail(matches.error());
    if (*matches && hasher_.needs_rehash(user.password_hash, user.pepper_version)) {
        // Upgrade old parameters or an old pepper transparently; a failure here is not fatal.
        if (auto fresh = hasher_.hash(password)) {
            (void)users_.set_password(user.userid, fresh->encoded, fresh->pepper_version);
        }
    }
    return *matches;
}

core::result<store::user_record, auth_error> account_service::authenticate(
    std::string_view username, const core::secret_string& password) {
    // Malformed input is still hashed: its timing must look like any other failure.
    if (!check_username(username) || password.size() > max_password_length * 4) {
        hasher_.burn_equivalent_time(password);
        return core::fail(auth_error::invalid_credentials);
    }
    auto user = users_.find_by_name(username);
    if (!user) {
        hasher_.burn_equivalent_time(password);
        if (user.error() == store::store_error::not_found) {
            return core::fail(auth_error::invalid_credentials);
        }
        return core::fail(auth_error::unavailable);
    }
    auto matches = password_matches(*user, password);
    if (!matches) return core::fail(matches.error());
    if (!*matches) return core::fail(auth_error::invalid_credentials);
    if (user->disabled) return core::fail(auth_error::account_disabled);
    return std::move(user).value();
}

core::status<auth_error> account_service::change_password(
    std::int64_t userid, const core::secret_string& current_password,
    const core::secret_string& new_password) {
    auto user = users_.find_by_id(userid);
    if (!user) return core::fail(from_store(user.error()));
    auto matches = password_matches(*user, current_password);
    if (!matches) return core::fail(matches.error());
    if (!*matches) return core::fail(auth_error::invalid_credentials);
    if (auto ok = check_password(new_password.reveal()); !ok) return core::fail(ok.error());
    auto hashed = hasher_.hash(new_password);
    if (!hashed) return core::fail(hashed.error());
    auto saved = users_.set_password(userid, hashed->encoded, hashed->pepper_version);
    if (!saved) return core::fail(from_store(saved.error()));
    return core::ok;
}

core::status<auth_error> account_service::delete_account(std::int64_t userid,
                                                         const core::secret_string& password) {
    auto user = users_.find_by_id(userid);
    if (!user) return core::fail(from_store(user.error()));
    auto matches = password_matches(*user, password);
    if (!matches) return core::fail(matches.error());
    if (!*matches) return core::fail(auth_error::invalid_credentials);
    auto removed = users_.remove(userid);
    if (!removed) return core::fail(from_store(removed.error()));
    if (eraser_) (void)eraser_(userid, user->username);
    return core::ok;
}

core::result<store::user_record, auth_error> account_service::find(std::int64_t userid) {
    auto user = users_.find_by_id(userid);
    if (!user) return core::fail(from_store(user.error()));
    return std::move(user).value();
}

core::status<auth_error> account_service::admin_set_password(
    std::string_view username, const core::secret_string& new_password) {
    if (auto ok = check_password(new_password.reveal()); !ok) return core::fail(ok.error());
    auto user = users_.find_by_name(username);
    if (!user) return core::fail(from_store(user.error()));
    auto hashed = hasher_.hash(new_password);
    if (!hashed) return core::fail(hashed.error());
    auto saved = users_.set_password(user->userid, hashed->encoded, hashed->pepper_version);
    if (!saved) return core::fail(from_store(saved.error()));
    return core::ok;
}

core::result<store::user_record, auth_error> account_service::admin_set_role(
    std::string_view username, store::role role) {
    auto user = users_.find_by_name(username);
    if (!user) return core::fail(from_store(user.error()));
    if (auto saved = users_.set_role(user->userid, role); !saved) {
        return core::fail(from_store(saved.error()));
    }
    user->role = role;
    return std::move(user).value();
}

core::result<store::user_record, auth_error> account_service::admin_set_disabled(
    std::string_view username, bool disabled) {
    auto user = users_.find_by_name(username);
    if (!user) return core::fail(from_store(user.error()));
    if (auto saved = users_.set_disabled(user->userid, disabled); !saved) {
        return core::fail(from_store(saved.error()));
    }
    user->disabled = disabled;
    return std::move(user).value();
}

core::result<store::user_record, auth_error> account_service::admin_delete(
    std::string_view username, bool* mail_erased) {
    auto user = users_.find_by_name(username);
    if (!user) return core::fail(from_store(user.error()));
    if (auto removed = users_.remove(user->userid); !removed) {
        return core::fail(from_store(removed.error()));
    }
    const bool erased = !eraser_ || eraser_(user->userid, user->username);
    if (mail_erased != nullptr) *mail_erased = erased;
    return std::move(user).value();
}

core::result<std::vector<store::user_record>, auth_error> account_service::list() {
    auto users = users_.list();
    if (!users) return core::fail(from_store(users.error()));
    return std::move(users).value();
}

}  // namespace secms::auth
