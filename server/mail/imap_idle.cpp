// IMAP client: IDLE, split so that the caller waits on the socket with Asio.
#include "server/mail/imap_internal.hpp"

#include <poll.h>

#include <cstring>

namespace secms::mail {

using namespace imap_detail;

core::status<mail_error> imap_session::idle_start() {
    if (!alive()) return core::fail(mail_error::unavailable);
    auto& c = *connection_;
    if (c.idling) return core::ok;
    if (!has_capability("IDLE")) return core::fail(mail_error::protocol);
    if (!c.selected) {  // IDLE reports on the selected folder; the inbox by default
        if (auto s = select("INBOX"); !s) return core::fail(s.error());
    }
    c.idle_buffer.clear();
    c.start();
    const int r = mailimap_idle(c.imap.get());
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r));
    c.idling = true;
    return core::ok;
}

int imap_session::idle_fd() const noexcept {
    if (!connection_ || !connection_->imap || !connection_->alive) return -1;
    return mailimap_idle_get_fd(connection_->imap.get());
}

idle_event imap_session::idle_poll() {
    if (!alive() || !connection_->idling) return idle_event::closed;
    auto& c = *connection_;
    mailstream* stream = c.imap->imap_stream;
    // What libetpan read ahead while waiting for "+" is consumed first; then the socket, without
    // blocking when nothing is there.
    if (stream->read_buffer_len > 0) {
        c.idle_buffer.append(stream->read_buffer, stream->read_buffer_len);
        stream->read_buffer_len = 0;
    }
    pollfd p{idle_fd(), POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) {
        char chunk[4096];
        const ssize_t n = mailstream_low_read(mailstream_get_low(stream), chunk, sizeof chunk);
        if (n <= 0) {
            c.alive = false;
            c.idling = false;
            c.selected.reset();
            return idle_event::closed;
        }
        c.idle_buffer.append(chunk, static_cast<std::size_t>(n));
    }
    if (c.idle_buffer.size() > 1024 * 1024) {  // a server that floods is dropped
        c.alive = false;
        c.idling = false;
        return idle_event::closed;
    }
    idle_event event = idle_event::none;
    std::size_t consumed = 0;
    for (;;) {
        const auto eol = c.idle_buffer.find("\r\n", consumed);
        if (eol == std::string::npos) break;
        const std::string line =
            upper(std::string_view(c.idle_buffer).substr(consumed, eol - consumed));
        consumed = eol + 2;
        if (line.rfind("* BYE", 0) == 0) {
            c.alive = false;
            c.idling = false;
            c.selected.reset();
            return idle_event::closed;
        }
        for (const char* word : {" EXISTS", " EXPUNGE", " RECENT", " FETCH "}) {
            if (line.rfind("* ", 0) == 0 && line.find(word) != std::string::npos) {
                event = idle_event::changed;
            }
        }
    }
    c.idle_buffer.erase(0, consumed);  // a partial line waits for the rest
    return event;
}

core::status<mail_error> imap_session::idle_done() {
    if (!alive()) return core::fail(mail_error::unavailable);
    auto& c = *connection_;
    if (!c.idling) return core::ok;
    c.idling = false;
    // A partial untagged line read by idle_poll goes back to libetpan's buffer so that its
    // parser sees whole responses.
    mailstream* stream = c.imap->imap_stream;
    if (!c.idle_buffer.empty()) {
        if (c.idle_buffer.size() + stream->read_buffer_len > stream->buffer_max_size) {
            c.alive = false;
            return core::fail(mail_error::protocol);
        }
        std::memmove(stream->read_buffer + c.idle_buffer.size(), stream->read_buffer,
                     stream->read_buffer_len);
        std::memcpy(stream->read_buffer, c.idle_buffer.data(), c.idle_buffer.size());
        stream->read_buffer_len += c.idle_buffer.size();
        c.idle_buffer.clear();
    }
    c.start();
    const int r = mailimap_idle_done(c.imap.get());
    if (r != MAILIMAP_NO_ERROR) return core::fail(c.failure(r));
    return core::ok;
}

}  // namespace secms::mail
