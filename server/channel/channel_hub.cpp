#include "server/channel/channel_hub.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <map>

#include "server/channel/relay_frame.hpp"
#include "server/core/secure_bytes.hpp"

namespace secms::channel {

namespace json = boost::json;

namespace {
// Limiter keys: a connection by its address, which leave_locked forgets before it can be reused.
std::string connection_key(const peer* p) {
    return "connection:" + std::to_string(reinterpret_cast<std::uintptr_t>(p));
}
}  // namespace

std::string_view code(end_reason r) noexcept {
    switch (r) {
        case end_reason::ended_by_user:
            return "ended";
        case end_reason::rejected:
            return "rejected";
        case end_reason::disconnected:
            return "disconnected";
        case end_reason::idle_timeout:
            return "idle_timeout";
        case end_reason::offer_expired:
            return "offer_expired";
        case end_reason::compromised:
            return "compromised";
        case end_reason::server_shutdown:
            return "server_shutdown";
    }
    return "ended";
}

std::string error_message(std::string_view error_code, std::string_view text,
                          std::string_view session_id) {
    json::object error;
    error["code"] = error_code;
    error["message"] = text;
    json::object msg;
    msg["type"] = "error";
    msg["error"] = std::move(error);
    if (!session_id.empty()) msg["session"] = session_id;
    return json::serialize(msg);
}

std::string error_message(channel_error e, std::string_view session_id) {
    return error_message(code(e), message(e), session_id);
}

std::string rate_limited_message(std::string_view request_type, std::int64_t retry_after) {
    json::object error;
    error["code"] = code(channel_error::rate_limited);
    error["message"] = message(channel_error::rate_limited);
    error["retry_after"] = retry_after;
    json::object msg;
    msg["type"] = "error";
    msg["error"] = std::move(error);
    // Which request was refused, so a client can tell; a long (made-up) type is not echoed.
    if (request_type.size() <= 32) msg["request"] = request_type;
    return json::serialize(msg);
}

std::string presence_message(const std::vector<online_user>& users) {
    json::array list;
    for (const auto& u : users) {
        json::object o;
        o["userid"] = u.userid;
        o["username"] = u.username;
        if (!u.fingerprint.empty()) o["fingerprint"] = u.fingerprint;
        list.push_back(std::move(o));
    }
    json::object msg;
    msg["type"] = "presence";
    msg["online"] = std::move(list);
    return json::serialize(msg);
}

std::string presence_delta_message(std::string_view type, const online_user& user) {
    json::object o;
    o["userid"] = user.userid;
    o["username"] = user.username;
    if (type != "presence_left" && !user.fingerprint.empty()) o["fingerprint"] = user.fingerprint;
    json::object msg;
    msg["type"] = type;
    msg["user"] = std::move(o);
    return json::serialize(msg);
}

socket_ticket::~socket_ticket() {
    if (hub_ != nullptr) hub_->release_socket(userid_);
}

struct channel_hub::connection {
    std::weak_ptr<peer> handle;
    member_info info;
    std::optional<pending_proof> challenge;
    core::steady_time challenge_deadline{};
    std::optional<pgp::certificate_report> certificate;
    json::value certificate_json;
    std::uint64_t certified_order = 0;  // the most recently certified connection of a user wins
    std::vector<std::string> sessions;
};

// Volatile by design: nothing here is persisted; the destructor wipes what it held.
struct channel_hub::session {
    std::string id;
    const peer* initiator = nullptr;
    const peer* responder = nullptr;
    std::weak_ptr<peer> initiator_handle;
    std::weak_ptr<peer> responder_handle;
    std::int64_t initiator_userid = 0;
    std::int64_t responder_userid = 0;
    std::int64_t start_time = 0;  // Unix seconds, when both accepted
    core::steady_time created{};
    core::steady_time last_activity{};
    bool initiator_accepted = false;
    bool responder_accepted = false;
    bool open = false;
    std::uint64_t next_sequence_initiator = 0;
    std::uint64_t next_sequence_responder = 0;

    ~session() {
        core::wipe(id.data(), id.size());
        initiator_userid = responder_userid = 0;
        next_sequence_initiator = next_sequence_responder = 0;
    }
    bool has_member(const peer* p) const { return p == initiator || p == responder; }
};

channel_hub::channel_hub(core::metrics& metrics, const core::clock& clock,
                         channel_settings settings)
    : metrics_(metrics),
      clock_(clock),
      settings_(std::move(settings)),
      control_limiter_(settings_.control, clock),
      certificate_per_connection_({settings_.certificate_submissions.per_connection_burst,
                                   settings_.certificate_submissions.per_connection_per_minute},
                                  clock),
      certificate_per_account_({settings_.certificate_submissions.per_account_burst,
                                settings_.certificate_submissions.per_account_per_minute},
                               clock) {}

channel_hub::~channel_hub() = default;

channel_hub::connection* channel_hub::find_connection_locked(const peer* p) {
    auto it = connections_.find(p);
    return it == connections_.end() ? nullptr : it->second.get();
}

channel_hub::session* channel_hub::find_member_session_locked(const peer* p, std::string_view id) {
    auto it = sessions_.find(id);
    if (it == sessions_.end() || !it->second->has_member(p)) return nullptr;
    return it->second.get();
}

std::vector<online_user> channel_hub::online() const {
    std::lock_guard lock(mutex_);
    return online_locked();
}

std::vector<online_user> channel_hub::online_locked() const {
    std::map<std::int64_t, online_user> users;
    std::map<std::int64_t, std::uint64_t> order;
    for (const auto& [p, c] : connections_) {
        auto& u = users[c->info.userid];
        u.userid = c->info.userid;
        u.username = c->info.username;
        if (c->certificate && c->certified_order >= order[c->info.userid]) {
            order[c->info.userid] = c->certified_order;
            u.fingerprint = c->certificate->fingerprint;
        }
    }
    std::vector<online_user> out;
    out.reserve(users.size());
    for (auto& [id, u] : users) out.push_back(std::move(u));
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.username < b.username; });
    return out;
}

std::optional<online_user> channel_hub::user_view_locked(std::int64_t userid) const {
    std::optional<online_user> out;
    std::uint64_t order = 0;
    for (const auto& [p, c] : connections_) {
        if (c->info.userid != userid) continue;
        if (!out) out = online_user{userid, c->info.username, {}};
        if (c->certificate && c->certified_order >= order) {
            order = c->certified_order;
            out->fingerprint = c->certificate->fingerprint;
        }
    }
    return out;
}

// Sending only queues on each peer's strand, so doing it under the lock is safe and keeps every
// peer's view of events in one order: a joiner's full list comes before any change after it.
void channel_hub::send_all_locked(const std::string& text, const peer* except) {
    auto message = std::make_shared<const std::string>(text);
    for (auto& [p, c] : connections_) {
        if (p == except) continue;
        if (auto alive = c->handle.lock()) alive->send_text(message);
    }
}

void channel_hub::announce_locked(const std::optional<online_user>& before,
                                  const std::optional<online_user>& after, const peer* except) {
    if (!before && after) {
        send_all_locked(presence_delta_message("presence_joined", *after), except);
    } else if (before && !after) {
        send_all_locked(presence_delta_message("presence_left", *before), except);
    } else if (before && after && before->fingerprint != after->fingerprint) {
        send_all_locked(presence_delta_message("presence_changed", *after), except);
    }
    metrics_.users_online = static_cast<std::int64_t>(users_connected_.size());
}

std::optional<socket_ticket> channel_hub::reserve_socket(std::int64_t userid) {
    std::lock_guard lock(sockets_mutex_);
    auto& held = sockets_[userid];
    if (held >= settings_.max_websockets_per_user) {
        if (held == 0) sockets_.erase(userid);
        return std::nullopt;
    }
    ++held;
    return socket_ticket(this, userid);
}

void channel_hub::release_socket(std::int64_t userid) {
    std::lock_guard lock(sockets_mutex_);
    auto it = sockets_.find(userid);
    if (it == sockets_.end()) return;
    if (--it->second == 0) sockets_.erase(it);
}

std::size_t channel_hub::sockets_of(std::int64_t userid) const {
    std::lock_guard lock(sockets_mutex_);
    auto it = sockets_.find(userid);
    return it == sockets_.end() ? 0 : it->second;
}

void channel_hub::add_extension(extension& ext) {
    std::lock_guard lock(mutex_);
    extensions_.push_back(&ext);
}

extension* channel_hub::extension_for_message(std::string_view type) const noexcept {
    for (auto* ext : extensions_) {
        if (ext->handles_message(type)) return ext;
    }
    return nullptr;
}

extension* channel_hub::extension_for_frame(std::uint8_t type) const noexcept {
    for (auto* ext : extensions_) {
        if (ext->handles_frame(type)) return ext;
    }
    return nullptr;
}

void channel_hub::join(const std::shared_ptr<peer>& p, member_info info) {
    // Declared first, so released last: a superseded peer whose last reference this is may leave
    // the hub from its destructor, which takes the locks below.
    std::vector<std::shared_ptr<peer>> superseded;
    {
        std::lock_guard membership(membership_mutex_);
        std::vector<const peer*> left;
        {
            std::lock_guard lock(mutex_);
            if (connections_.contains(p.get())) return;
            auto before = user_view_locked(info.userid);
            // The account's older connections leave in the same step as this one joins: whatever
            // their order, two racing joins leave exactly one connection of the account here.
            std::vector<const peer*> older;
            for (auto& [q, c] : connections_) {
                if (c->info.userid != info.userid) continue;
                older.push_back(q);
                if (auto alive = c->handle.lock()) superseded.push_back(std::move(alive));
            }
            for (const peer* q : older) {
                if (leave_locked(q, false)) left.push_back(q);
            }
            auto c = std::make_unique<connection>();
            c->handle = p;
            c->info = info;
            connections_[p.get()] = std::move(c);
            ++users_connected_[info.userid];
            // The newcomer gets the whole list (others' deltas follow it in order); the others
            // hear of this user only when it was not here before or its certificate changed.
            p->send_text(std::make_shared<const std::string>(presence_message(online_locked())));
            announce_locked(before, user_view_locked(info.userid), p.get());
        }
        // Outside the hub's lock (an extension has its own), and in the hub's order: the old
        // connections are gone from the rooms before the new one arrives.
        for (const peer* q : left) {
            for (auto* ext : extensions_) ext->disconnected(q);
        }
        for (auto* ext : extensions_) ext->connected(p, info);
    }
    for (auto& q : superseded) q->close(close_reason::superseded, "superseded");
}

void channel_hub::leave(const peer* p) {
    {
        // A connection that left already (its read loop ended, then its destructor calls again)
        // costs no wait on the membership lock.
        std::lock_guard lock(mutex_);
        if (!connections_.contains(p)) return;
    }
    std::lock_guard membership(membership_mutex_);
    {
        std::lock_guard lock(mutex_);
        if (!leave_locked(p)) return;
    }
    for (auto* ext : extensions_) ext->disconnected(p);
}

bool channel_hub::leave_locked(const peer* p, bool announce) {
    auto* c = find_connection_locked(p);
    if (c == nullptr) return false;
    certificate_per_connection_.reset(connection_key(p));
    for (const auto& id : std::vector<std::string>(c->sessions)) {
        auto it = sessions_.find(id);
        if (it != sessions_.end()) end_session_locked(*it->second, end_reason::disconnected, {}, p);
    }
    if (c->certificate) release_certificate_locked(c->certificate->fingerprint);
    const std::int64_t userid = c->info.userid;
    auto before = user_view_locked(userid);
    connections_.erase(p);
    if (auto it = users_connected_.find(userid); it != users_connected_.end()) {
        if (--it->second == 0) users_connected_.erase(it);
    }
    if (announce) announce_locked(before, user_view_locked(userid));
    return true;
}

template <class Match>
void channel_hub::end_connections(Match which, std::string_view reason) {
    std::vector<std::shared_ptr<peer>> to_close;  // released after the locks (see join)
    std::lock_guard membership(membership_mutex_);
    std::vector<const peer*> left;
    {
        std::lock_guard lock(mutex_);
        std::vector<const peer*> matching;
        for (auto& [p, c] : connections_) {
            if (!which(c->info)) continue;
            matching.push_back(p);
            if (auto alive = c->handle.lock()) to_close.push_back(alive);
        }
        // Out of presence and of every session now, not when the close handshake ends (which a
        // client that does not answer holds for the close timeout): the others see it at once.
        for (const peer* p : matching) {
            if (leave_locked(p)) left.push_back(p);
        }
    }
    for (const peer* p : left) {
        for (auto* ext : extensions_) ext->disconnected(p);
    }
    for (auto& p : to_close) p->close(close_reason::login_ended, reason);
}

void channel_hub::end_login_session(const std::string& login_session_id) {
    end_connections(
        [&](const member_info& info) { return info.login_session_id == login_session_id; },
        "login session ended");
}

void channel_hub::end_user(std::int64_t userid) {
    end_connections([&](const member_info& info) { return info.userid == userid; },
                    "account ended");
}

void channel_hub::close_all(close_reason code_value, std::string_view reason) {
    std::vector<std::shared_ptr<peer>> to_close;
    {
        std::lock_guard lock(mutex_);
        while (!sessions_.empty()) {
            end_session_locked(*sessions_.begin()->second, end_reason::server_shutdown, {},
                               nullptr);
        }
        for (auto& [p, c] : connections_) {
            if (auto alive = c->handle.lock()) to_close.push_back(alive);
        }
    }
    for (auto& p : to_close) p->close(code_value, reason);
}

std::optional<std::string> channel_hub::issue_challenge(const peer* p,
                                                        pgp::certificate_report report) {
    std::lock_guard lock(mutex_);
    auto* c = find_connection_locked(p);
    if (c == nullptr) return std::nullopt;
    // The signed text names this service, the account and the certificate, so a signature
    // obtained here proves nothing anywhere else; the nonce and the time make it fresh. It is
    // ASCII text of the exact v2 form the client's Worker checks before signing (docs/protocol.md
    // "Signing contexts"): never equal to a handshake signature input, which starts with 0xFF.
    std::string fingerprint = report.fingerprint;
    std::ranges::transform(fingerprint, fingerprint.begin(), [](char ch) {
        return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
    });
    const core::secure_bytes nonce = core::random_secret(32);
    // The origin the page runs on (its WebSocket's Origin, one of the allowed origins): the one
    // the Worker compares with its own.
    const std::string& origin = c->info.origin.empty() ? settings_.public_origin : c->info.origin;
    std::string challenge = "Security.MS proof of possession v2\norigin: " + origin +
                            "\nuser: " + c->info.username + "\nfingerprint: " + fingerprint +
                            "\nnonce: " + core::to_hex(nonce.view()) +
                            "\ntime: " + std::to_string(clock_.unix_now()) + "\n";
    c->challenge = pending_proof{std::move(report), challenge};
    c->challenge_deadline = clock_.now() + settings_.challenge_lifetime;
    return challenge;
}

std::optional<pending_proof> channel_hub::take_challenge(const peer* p) {
    std::lock_guard lock(mutex_);
    auto* c = find_connection_locked(p);
    if (c == nullptr || !c->challenge) return std::nullopt;
    std::optional<pending_proof> out = std::move(c->challenge);
    c->challenge.reset();
    if (clock_.now() > c->challenge_deadline) return std::nullopt;
    return out;
}

void channel_hub::hold_certificate_locked(const pgp::certificate_report& report) {
    known_.add(report);
    ++known_holders_[report.fingerprint];
}

void channel_hub::release_certificate_locked(const std::string& fingerprint) {
    auto it = known_holders_.find(fingerprint);
    if (it == known_holders_.end()) return;
    if (--it->second > 0) return;
    known_holders_.erase(it);
    known_.remove(fingerprint);
}

std::optional<std::int64_t> channel_hub::admit_control(const peer* p, std::string_view type) {
    std::lock_guard lock(mutex_);
    auto* c = find_connection_locked(p);
    if (c == nullptr) return std::nullopt;  // leaving: whatever it asks is refused further on
    return control_limiter_.admit(c->info.userid, type);
}

std::optional<std::int64_t> channel_hub::admit_certificate_submission(const peer* p) {
    std::int64_t userid = 0;
    {
        std::lock_guard lock(mutex_);
        auto* c = find_connection_locked(p);
        if (c == nullptr) return 1;
        userid = c->info.userid;
    }
    // The connection's bucket first: one busy tab does not use up the account's other tabs'.
    if (auto wait = certificate_per_connection_.acquire(connection_key(p))) {
        return std::max<std::int64_t>(1, wait->count());
    }
    if (auto wait = certificate_per_account_.acquire("account:" + std::to_string(userid))) {
        return std::max<std::int64_t>(1, wait->count());
    }
    return std::nullopt;
}

void channel_hub::certify(const peer* p, pgp::certificate_report report) {
    std::lock_guard lock(mutex_);
    auto* c = find_connection_locked(p);
    if (c == nullptr) return;
    auto before = user_view_locked(c->info.userid);
    // Hold the new one before letting go of the old: the same certificate proved again stays.
    hold_certificate_locked(report);
    if (c->certificate) release_certificate_locked(c->certificate->fingerprint);
    c->certificate_json = pgp::to_json(report);
    c->certificate = std::move(report);
    c->certified_order = ++certify_counter_;
    announce_locked(before, user_view_locked(c->info.userid));
}

core::result<std::string, channel_error> channel_hub::request_channel(const peer* from,
                                                                      std::int64_t to_userid) {
    std::lock_guard lock(mutex_);
    auto* a = find_connection_locked(from);
    if (a == nullptr) return core::fail(channel_error::malformed);
    if (!a->certificate) return core::fail(channel_error::not_certified);
    if (a->info.userid == to_userid) return core::fail(channel_error::self_channel);
    connection* b = nullptr;
    const peer* b_peer = nullptr;
    bool online = false;
    for (auto& [p, c] : connections_) {
        if (c->info.userid != to_userid) continue;
        online = true;
        if (c->certificate && (b == nullptr || c->certified_order > b->certified_order)) {
            b = c.get();
            b_peer = p;
        }
    }
    if (!online) return core::fail(channel_error::peer_offline);
    if (b == nullptr) return core::fail(channel_error::peer_not_certified);
    if (a->sessions.size() >= settings_.max_channels_per_connection ||
        b->sessions.size() >= settings_.max_channels_per_connection) {
        return core::fail(channel_error::too_many_channels);
    }
    // Offers still waiting for an answer, made by this user (from any tab): a peer's slots are
    // not kept full by one offerer, and pending offers expire (sweep).
    std::size_t pending = 0;
    std::size_t pending_to_peer = 0;
    for (const auto& [id, other] : sessions_) {
        if (other->open || other->initiator_userid != a->info.userid) continue;
        ++pending;
        if (other->responder_userid == to_userid) ++pending_to_peer;
    }
    if (pending >= settings_.max_pending_offers ||
        pending_to_peer >= settings_.max_pending_offers_per_peer) {
        return core::fail(channel_error::too_many_offers);
    }
    auto s = std::make_unique<session>();
    s->id = core::to_hex(core::random_secret(16).view());
    s->initiator = from;
    s->responder = b_peer;
    s->initiator_handle = a->handle;
    s->responder_handle = b->handle;
    s->initiator_userid = a->info.userid;
    s->responder_userid = b->info.userid;
    s->created = s->last_activity = clock_.now();
    a->sessions.push_back(s->id);
    b->sessions.push_back(s->id);

    auto offer = [&](std::string_view role, const connection& other) {
        json::object peer_info;
        peer_info["userid"] = other.info.userid;
        peer_info["username"] = other.info.username;
        json::object msg;
        msg["type"] = "channel_offer";
        msg["session"] = s->id;
        msg["role"] = role;
        msg["peer"] = std::move(peer_info);
        msg["certificate"] = other.certificate_json;
        return std::make_shared<const std::string>(json::serialize(msg));
    };
    if (auto alive = a->handle.lock()) alive->send_text(offer("initiator", *b));
    if (auto alive = b->handle.lock()) alive->send_text(offer("responder", *a));
    std::string id = s->id;
    sessions_.emplace(id, std::move(s));
    return id;
}

core::status<channel_error> channel_hub::accept(const peer* p, std::string_view session_id) {
    std::lock_guard lock(mutex_);
    auto* s = find_member_session_locked(p, session_id);
    if (s == nullptr) return core::fail(channel_error::unknown_session);
    (p == s->initiator ? s->initiator_accepted : s->responder_accepted) = true;
    if (s->open || !s->initiator_accepted || !s->responder_accepted) return core::ok;
    s->open = true;
    s->start_time = clock_.unix_now();
    s->last_activity = clock_.now();
    ++metrics_.channels_open;
    json::object msg;
    msg["type"] = "channel_open";
    msg["session"] = s->id;
    msg["start_time"] = s->start_time;
    auto text = std::make_shared<const std::string>(json::serialize(msg));
    if (auto alive = s->initiator_handle.lock()) alive->send_text(text);
    if (auto alive = s->responder_handle.lock()) alive->send_text(text);
    return core::ok;
}

core::status<channel_error> channel_hub::end(const peer* p, std::string_view session_id,
                                             end_reason why, std::string_view detail) {
    std::lock_guard lock(mutex_);
    auto* s = find_member_session_locked(p, session_id);
    if (s == nullptr) return core::fail(channel_error::unknown_session);
    end_session_locked(*s, why, detail, p);
    return core::ok;
}

void channel_hub::end_session_locked(session& s, end_reason why, std::string_view detail,
                                     const peer* by) {
    json::object msg;
    msg["type"] = "channel_ended";
    msg["session"] = s.id;
    msg["reason"] = code(why);
    // A client-supplied detail (the teardown reason its protocol found) is passed on only when
    // it is a short lower-case code: the peer shows it, so it must not carry arbitrary text.
    bool plain = !detail.empty() && detail.size() <= 32 &&
                 std::all_of(detail.begin(), detail.end(),
                             [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
    if (plain) msg["detail"] = detail;
    if (s.open) {
        msg["start_time"] = s.start_time;
        msg["end_time"] = clock_.unix_now();
        --metrics_.channels_open;
    }
    auto send = [&](const std::weak_ptr<peer>& handle, const peer* member) {
        msg["by"] = by == nullptr ? "server" : (by == member ? "you" : "peer");
        if (auto alive = handle.lock()) {
            alive->send_text(std::make_shared<const std::string>(json::serialize(msg)));
        }
    };
    send(s.initiator_handle, s.initiator);
    send(s.responder_handle, s.responder);
    for (const peer* member : {s.initiator, s.responder}) {
        if (auto* c = find_connection_locked(member)) {
            std::erase(c->sessions, s.id);
        }
    }
    erase_session_locked(s.id);
}

void channel_hub::erase_session_locked(const std::string& id) {
    // `id` lives inside the session being erased: erase by a copy.
    std::string key = id;  // NOLINT(performance-unnecessary-copy-initialization)
    sessions_.erase(key);
}

core::result<relay_target, channel_error> channel_hub::relay(const peer* from, message_ptr frame) {
    if (!frame->empty()) {
        if (auto* ext = extension_for_frame(static_cast<std::uint8_t>(frame->front()))) {
            std::shared_ptr<peer> sender;
            {
                std::lock_guard lock(mutex_);
                if (auto* c = find_connection_locked(from)) sender = c->handle.lock();
            }
            if (!sender) return core::fail(channel_error::unknown_session);
            return ext->relay(sender, std::move(frame));
        }
    }
    auto header = parse_relay_header(*frame);
    if (!header) return core::fail(channel_error::bad_frame);
    std::lock_guard lock(mutex_);
    auto* s = find_member_session_locked(from, header->session_id);
    if (s == nullptr) return core::fail(channel_error::unknown_session);
    if (!s->open) return core::fail(channel_error::session_not_open);
    bool from_initiator = from == s->initiator;
    std::uint64_t& expected =
        from_initiator ? s->next_sequence_initiator : s->next_sequence_responder;
    if (header->sequence != expected) return core::fail(channel_error::out_of_order);
    auto receiver = (from_initiator ? s->responder_handle : s->initiator_handle).lock();
    if (!receiver) return core::fail(channel_error::unknown_session);
    ++expected;
    s->last_activity = clock_.now();
    ++metrics_.relay_frames;
    metrics_.relay_bytes += static_cast<std::int64_t>(frame->size());
    receiver->send_binary(std::move(frame));
    return relay_target{std::move(receiver)};
}

void channel_hub::sweep() {
    std::lock_guard lock(mutex_);
    auto now = clock_.now();
    std::vector<std::pair<std::string, end_reason>> expired;
    for (auto& [id, s] : sessions_) {
        if (!s->open && now - s->created > settings_.offer_lifetime) {
            expired.emplace_back(id, end_reason::offer_expired);
        } else if (s->open && now - s->last_activity > settings_.idle_timeout) {
            expired.emplace_back(id, end_reason::idle_timeout);
        }
    }
    for (auto& [id, why] : expired) {
        auto it = sessions_.find(id);
        if (it != sessions_.end()) end_session_locked(*it->second, why, {}, nullptr);
    }
    for (auto& [p, c] : connections_) {
        if (c->challenge && now > c->challenge_deadline) c->challenge.reset();
    }
    control_limiter_.sweep();
}

std::size_t channel_hub::session_count() const {
    std::lock_guard lock(mutex_);
    return sessions_.size();
}

}  // namespace secms::channel
