// A value or a closed error enum: expected failures are values (DESIGN.md §5).
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace secms::core {

template <class E>
struct failure {
    E error;
};

template <class E>
failure<E> fail(E e) {
    return failure<E>{e};
}

template <class T, class E>
class [[nodiscard]] result {
  public:
    result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
    result(failure<E> f) : state_(std::in_place_index<1>, f.error) {}      // NOLINT: implicit

    bool has_value() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & {
        assert(has_value());
        return std::get<0>(state_);
    }
    const T& value() const& {
        assert(has_value());
        return std::get<0>(state_);
    }
    T&& value() && {
        assert(has_value());
        return std::get<0>(std::move(state_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    E error() const {
        assert(!has_value());
        return std::get<1>(state_);
    }

  private:
    std::variant<T, E> state_;
};

// result<void, E>: success carries nothing.
struct ok_t {};
inline constexpr ok_t ok{};

template <class E>
using status = result<ok_t, E>;

}  // namespace secms::core
