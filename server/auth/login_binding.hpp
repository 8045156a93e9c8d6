// Binding a long-lived connection (the application WebSocket) to the login that opened it, so
// that it cannot outlive that login whatever the timing.
//
// The login is checked before the upgrade, but the connection becomes findable (joins the hub)
// only later. A logout in between ends the session while no connection is registered under it,
// so login_sessions::on_ended has nothing to close. Re-checking the login *after* joining closes
// that window: the end of a login first removes it from login_sessions (under its lock) and then
// notifies on_ended. Either the removal came before the re-check (the re-check fails and the
// connection leaves again), or it came after it, and then the notification, which follows the
// removal, runs after the join and finds the connection.
#pragma once

#include <string_view>

#include "server/auth/login_sessions.hpp"

namespace secms::auth {

// Runs `join()`, then re-checks the login; when it has ended meanwhile, runs `leave()` and
// returns false (the caller closes the connection).
template <class Join, class Leave>
bool join_while_logged_in(const login_sessions& sessions, std::string_view session_id, Join&& join,
                          Leave&& leave) {
    if (!sessions.find(session_id)) return false;  // ended already: do not even show up online
    join();
    if (sessions.find(session_id)) return true;
    leave();
    return false;
}

}  // namespace secms::auth
