// Plugs the mail service into the application WebSocket (channel::extension): it claims no
// message or frame; it counts each user's open sockets (IMAP IDLE runs only while there is
// one) and sends them mail_new and mail_status events.
#pragma once

#include <mutex>
#include <unordered_map>
#include <vector>

#include "server/channel/extension.hpp"
#include "server/mail/mail_service.hpp"

namespace secms::mail {

class mail_extension final : public channel::extension, public mail_notifier {
  public:
    explicit mail_extension(mail_service& service) : service_(service) {}

    void connected(const std::shared_ptr<channel::peer>& p,
                   const channel::member_info& info) override;
    void disconnected(const channel::peer* p) override;
    bool handles_message(std::string_view) const noexcept override { return false; }
    boost::asio::awaitable<void> handle_message(const std::shared_ptr<channel::peer>&,
                                                std::string_view,
                                                const boost::json::object&) override;
    bool handles_frame(std::uint8_t) const noexcept override { return false; }
    channel::relay_target relay(const std::shared_ptr<channel::peer>&,
                                channel::message_ptr) override {
        return {};
    }

    // Thread-safe: queues the text on every socket of the user.
    void send_to_user(std::int64_t userid, std::string json_text) override;

  private:
    mail_service& service_;
    std::mutex mutex_;
    struct entry {
        std::int64_t userid;
        std::weak_ptr<channel::peer> peer;
    };
    std::unordered_map<const channel::peer*, entry> peers_;
    std::unordered_map<std::int64_t, std::size_t> counts_;
};

}  // namespace secms::mail
