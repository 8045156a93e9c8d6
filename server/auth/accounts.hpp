// Account operations over the user store and the password hasher. Every call may run Argon2id:
// call from the worker pool, never from an I/O thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "server/auth/auth_error.hpp"
#include "server/auth/password_hasher.hpp"
#include "server/core/clock.hpp"
#include "server/core/result.hpp"
#include "server/core/secure_bytes.hpp"
#include "server/store/user_store.hpp"

namespace secms::auth {

class account_service {
  public:
    // Erases what another service keeps under a user name (the mailbox <name>@<mail domain>),
    // blocking; false when it could not. Called with (0, name) before a name that no account
    // holds is registered, so a deleted account's leftovers (a crash or an outage after its
    // deletion) never reach the next owner: when that fails the registration is refused
    // (mail_unavailable); and with (userid, name) after an account is deleted, which goes on
    // whatever the answer (the erase is then made at the next registration of the name). Its
    // failures are its own to log.
    using name_eraser = std::function<bool(std::int64_t userid, std::string_view username)>;

    account_service(store::user_store& users, const password_hasher& hasher,
                    const core::clock& clock);

    // Set once at start-up, before requests are served.
    void set_name_eraser(name_eraser eraser) { eraser_ = std::move(eraser); }

    core::result<store::user_record, auth_error> register_user(
        std::string_view username, const core::secret_string& password,
        store::role role = store::role::user);

    // Unknown user, wrong password and a corrupt stored hash all give invalid_credentials after
    // the same Argon2id work. A disabled account is reported only once the password is right.
    core::result<store::user_record, auth_error> authenticate(std::string_view username,
                                                              const core::secret_string& password);

    core::status<auth_error> change_password(std::int64_t userid,
                                             const core::secret_string& current_password,
                                             const core::secret_string& new_password);

    core::status<auth_error> delete_account(std::int64_t userid,
                                            const core::secret_string& password);

    core::result<store::user_record, auth_error> find(std::int64_t userid);

    // Administration (the `user` subcommands): no current password needed.
    core::status<auth_error> admin_set_password(std::string_view username,
                                                const core::secret_string& new_password);
    core::result<store::user_record, auth_error> admin_set_role(std::string_view username,
                                                                store::role role);
    core::result<store::user_record, auth_error> admin_set_disabled(std::string_view username,
                                                                    bool disabled);
    // `mail_erased` (when given): whether the eraser, if any, erased the name's data.
    core::result<store::user_record, auth_error> admin_delete(std::string_view username,
                                                              bool* mail_erased = nullptr);
    core::result<std::vector<store::user_record>, auth_error> list();

  private:
    core::result<bool, auth_error> password_matches(const store::user_record& user,
                                                    const core::secret_string& password);

    store::user_store& users_;
    const password_hasher& hasher_;
    const core::clock& clock_;
    name_eraser eraser_;
};

}  // namespace secms::auth
