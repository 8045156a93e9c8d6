// The live state of the application WebSocket: who is online (presence), whose certificate is
// verified, and the secure-channel sessions between them with their relay. Everything here is
// volatile: it lives in memory, is never written anywhere, and is wiped when it ends.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/auth/rate_limiter.hpp"
#include "server/channel/channel_error.hpp"
#include "server/channel/control_limits.hpp"
#include "server/channel/extension.hpp"
#include "server/channel/peer.hpp"
#include "server/core/clock.hpp"
#include "server/core/metrics.hpp"
#include "server/core/result.hpp"
#include "server/pgp/certificate.hpp"

namespace secms::channel {

struct online_user {
    std::int64_t userid = 0;
    std::string username;
    std::string fingerprint;  // of the verified certificate; empty when none yet
};

// certificate_submit is the one control message whose cost is CPU on the work pool; it has its own
// token buckets, per connection and per account (across the account's connections).
struct certificate_submission_limits {
    double per_connection_burst = 3;
    double per_connection_per_minute = 3;
    double per_account_burst = 5;
    double per_account_per_minute = 5;
};

struct channel_settings {
    std::string public_origin;                     // bound into possession challenges
    std::chrono::seconds challenge_lifetime{120};  // a proof must arrive within
    std::chrono::seconds offer_lifetime{120};      // both sides must accept within
    std::chrono::seconds idle_timeout{30 * 60};    // an open channel with no frame ends
    std::size_t max_channels_per_connection = 16;
    // Offers not yet accepted by both sides hold a slot of the peer's: one user may have this
    // many pending towards the same user, and this many in all, so no one can keep another's
    // slots full (pending offers also expire after offer_lifetime).
    std::size_t max_pending_offers_per_peer = 2;
    // As many as one connection's slots: the web client asks each room-mate at once, and is not
    // refused before its slots run out; a user with many tabs gets no more than one tab's worth.
    std::size_t max_pending_offers = 16;
    control_limits control{};  // per-user rates of the control messages
    // What one submitted certificate may hold, checked before librnp verifies it (pgp_limits),
    // and how often certificates may be submitted: each is a check on the work pool.
    pgp::pgp_limits certificate{};
    certificate_submission_limits certificate_submissions{};
    // WebSockets one account may hold open at once (all its tabs and devices): past this the
    // upgrade is refused (429 too_many_connections), so one login cannot take the server's
    // connection budget.
    std::size_t max_websockets_per_user = 8;
};

// Why a session ended, as sent in {"type":"channel_ended","reason":…}.
enum class end_reason {
    ended_by_user,
    rejected,
    disconnected,
    idle_timeout,
    offer_expired,
    compromised,
    server_shutdown
};
std::string_view code(end_reason r) noexcept;

// A pending proof of possession: the certificate waits for the signature over `challenge`.
struct pending_proof {
    pgp::certificate_report report;
    std::string challenge;
};

class channel_hub;

// One WebSocket counted against its account's max_websockets_per_user, from before the upgrade
// is answered until the connection ends. Move-only; given back when destroyed.
class socket_ticket {
  public:
    socket_ticket(channel_hub* hub, std::int64_t userid) : hub_(hub), userid_(userid) {}
    socket_ticket(socket_ticket&& other) noexcept : hub_(other.hub_), userid_(other.userid_) {
        other.hub_ = nullptr;
    }
    socket_ticket& operator=(socket_ticket&& other) noexcept {
        if (this != &other) {
            socket_ticket dropped(std::move(*this));
            hub_ = std::exchange(other.hub_, nullptr);
            userid_ = other.userid_;
        }
        return *this;
    }
    socket_ticket(const socket_ticket&) = delete;
    socket_ticket& operator=(const socket_ticket&) = delete;
    ~socket_ticket();

  private:
    channel_hub* hub_ = nullptr;
    std::int64_t userid_ = 0;
};

class channel_hub {
  public:
    channel_hub(core::metrics& metrics, const core::clock& clock, channel_settings settings);
    ~channel_hub();

    const channel_settings& settings() const noexcept { return settings_; }

    // Extensions ---------------------------------------------------------------------------------
    // Adds a module that claims more control-message and frame types (the chat rooms). Call
    // before serving; the extension must outlive every connection.
    void add_extension(extension& ext);
    // The extension that handles a control-message type, or null.
    extension* extension_for_message(std::string_view type) const noexcept;

    // WebSockets per account
    // ----------------------------------------------------------------------- A ticket while the
    // account holds fewer than max_websockets_per_user WebSockets; nullopt, counting nothing,
    // otherwise. Taken before the upgrade is answered.
    std::optional<socket_ticket> reserve_socket(std::int64_t userid);
    std::size_t sockets_of(std::int64_t userid) const;

    // Presence ---------------------------------------------------------------------------------
    // One app window per account: the joining connection takes over from the account's
    // connections already here, which leave (their sessions end as on a close, extensions hear
    // of it before the newcomer) and are closed with close_reason::superseded. Others hear of a
    // user only when it comes (presence_joined), goes (presence_left) or its shown certificate
    // changes (presence_changed, e.g. the newcomer has not proven its certificate yet); the
    // joining connection alone gets the full list. A takeover is one step: others never see the
    // user leave and come back, and of two connections joining at once exactly one stays.
    void join(const std::shared_ptr<peer>& p, member_info info);
    // A connection went away: its sessions end (the peer is told) and presence is updated.
    void leave(const peer* p);
    // End the connections of a login / of an account: they leave presence at once, then are
    // closed (login_ended); their close handshake no longer keeps them listed.
    void end_login_session(const std::string& login_session_id);
    void end_user(std::int64_t userid);
    void close_all(close_reason code, std::string_view reason);
    std::vector<online_user> online() const;

    // Certificates ------------------------------------------------------------------------------
    // Keeps the checked certificate until the proof arrives; returns the text to sign.
    std::optional<std::string> issue_challenge(const peer* p, pgp::certificate_report report);
    // The pending proof, if there is one and it has not expired (it is consumed: one try).
    std::optional<pending_proof> take_challenge(const peer* p);
    // The proof verified: the connection is certified; presence shows its fingerprint.
    void certify(const peer* p, pgp::certificate_report report);
    // Certificates of certified connections, for checking third-party certifications. Only the
    // current certificate of each connection is here: one superseded by a new proof, or whose
    // last connection closed, is forgotten.
    const pgp::known_certificates& known() const noexcept { return known_; }

    // Control-message rates ---------------------------------------------------------------------
    // Takes the cost of a control message of `type` from its sender's per-user budget. nullopt:
    // go ahead; otherwise the seconds to wait, and the message must be refused and ignored.
    std::optional<std::int64_t> admit_control(const peer* p, std::string_view type);
    // Takes a certificate_submit token from the connection's and the account's buckets. nullopt:
    // go ahead; otherwise the whole seconds to wait (a connection that is leaving waits too).
    std::optional<std::int64_t> admit_certificate_submission(const peer* p);

    // Sessions ----------------------------------------------------------------------------------
    // Creates a session from `from` to the user `to_userid` and sends both sides an offer.
    core::result<std::string, channel_error> request_channel(const peer* from,
                                                             std::int64_t to_userid);
    core::status<channel_error> accept(const peer* p, std::string_view session_id);
    core::status<channel_error> end(const peer* p, std::string_view session_id, end_reason why,
                                    std::string_view detail = {});
    // Routes a binary frame to the other member, after checking its header and order. A frame
    // type an extension claims goes to that extension, which answers the sender itself.
    core::result<relay_target, channel_error> relay(const peer* from, message_ptr frame);

    // Ends expired offers, idle sessions and stale challenges; called periodically.
    void sweep();

    std::size_t session_count() const;

  private:
    friend class socket_ticket;
    struct connection;
    struct session;
    void release_socket(std::int64_t userid);
    std::vector<online_user> online_locked() const;
    // How others see one user: nullopt when none of its connections is here.
    std::optional<online_user> user_view_locked(std::int64_t userid) const;
    void send_all_locked(const std::string& text, const peer* except = nullptr);
    // Tells everyone what changed between two views of one user, if anything did.
    void announce_locked(const std::optional<online_user>& before,
                         const std::optional<online_user>& after, const peer* except = nullptr);
    // Ends connections matching `which` as end_login_session/end_user do.
    template <class Match>
    void end_connections(Match which, std::string_view reason);
    // False when the connection was not (or no longer) here. `announce`: tell the others what
    // changed (a takeover announces once, for the leaving and the joining connection together).
    bool leave_locked(const peer* p, bool announce = true);
    // The known set counts the connections holding each fingerprint (several accounts may show
    // one certificate); the last one to let go removes it.
    void hold_certificate_locked(const pgp::certificate_report& report);
    void release_certificate_locked(const std::string& fingerprint);
    void end_session_locked(session& s, end_reason why, std::string_view detail, const peer* by);
    void erase_session_locked(const std::string& id);
    connection* find_connection_locked(const peer* p);
    extension* extension_for_frame(std::uint8_t type) const noexcept;
    session* find_member_session_locked(const peer* p, std::string_view id);

    core::metrics& metrics_;
    const core::clock& clock_;
    channel_settings settings_;
    pgp::known_certificates known_;
    std::unordered_map<std::string, std::size_t> known_holders_;  // fingerprint → connections
    control_limiter control_limiter_;
    auth::rate_limiter certificate_per_connection_;
    auth::rate_limiter certificate_per_account_;
    std::vector<extension*> extensions_;  // fixed before serving: read without the lock
    // Held around a join, leave or end of connections *and* the extension calls that follow it
    // (outside mutex_), so extensions hear of connections leaving and joining in the order the
    // hub saw them: a connection superseded by another never reaches an extension after its
    // successor, nor after it was told to forget it. Taken before mutex_, never under it.
    std::mutex membership_mutex_;
    mutable std::mutex mutex_;
    std::unordered_map<const peer*, std::unique_ptr<connection>> connections_;
    // Looked up by the frame's session id as a string_view: no allocation per relayed frame.
    struct id_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view id) const noexcept {
            return std::hash<std::string_view>{}(id);
        }
    };
    std::unordered_map<std::string, std::unique_ptr<session>, id_hash, std::equal_to<>> sessions_;
    std::uint64_t certify_counter_ = 0;
    std::unordered_map<std::int64_t, std::size_t> users_connected_;  // userid → joined connections
    mutable std::mutex sockets_mutex_;
    std::unordered_map<std::int64_t, std::size_t> sockets_;  // userid → tickets held
};

// {"type":"error","error":{"code":…,"message":…}} (+ "session" when given)
std::string error_message(std::string_view code, std::string_view message,
                          std::string_view session_id = {});
std::string error_message(channel_error e, std::string_view session_id = {});
// {"type":"error","error":{"code":"rate_limited","message":…,"retry_after":s},"request":type}
std::string rate_limited_message(std::string_view request_type, std::int64_t retry_after);

// {"type":"presence","online":[{"userid":1,"username":"alice","fingerprint":"…"},…]}
std::string presence_message(const std::vector<online_user>& users);
// {"type":"presence_joined"|"presence_changed"|"presence_left","user":{"userid":1,"username":…,
// "fingerprint":…}} (presence_left names only userid and username)
std::string presence_delta_message(std::string_view type, const online_user& user);

}  // namespace secms::channel
