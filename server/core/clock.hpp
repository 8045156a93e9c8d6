// Time sources, behind an interface so timeouts can be tested without sleeping.
#pragma once

#include <chrono>
#include <cstdint>

namespace secms::core {

using steady_time = std::chrono::steady_clock::time_point;

class clock {
  public:
    virtual ~clock() = default;
    virtual steady_time now() const = 0;
    // Seconds since the Unix epoch.
    virtual std::int64_t unix_now() const = 0;
};

class system_clock final : public clock {
  public:
    steady_time now() const override { return std::chrono::steady_clock::now(); }
    std::int64_t unix_now() const override {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

// For tests: time moves only when told.
class manual_clock final : public clock {
  public:
    steady_time now() const override { return now_; }
    std::int64_t unix_now() const override {
        return 1'700'000'000 +
               std::chrono::duration_cast<std::chrono::seconds>(now_.time_since_epoch()).count();
    }
    void advance(std::chrono::steady_clock::duration d) { now_ += d; }

  private:
    steady_time now_{};
};

}  // namespace secms::core
