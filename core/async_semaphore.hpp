#pragma once
// A counting semaphore for coroutines on one io_context: acquire() suspends
// until one of its permits is free, and hands freed permits to waiters in
// arrival order. close() ends every wait, and every later one, without a
// permit (the owner is going away); a permit released after that is a no-op.

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <memory>
#include <optional>

namespace lbctl {

class AsyncSemaphore {
  struct State;

 public:
  // Gives its permit back when it goes away.
  class Permit {
   public:
    explicit Permit(std::shared_ptr<State> state) : m_state(std::move(state)) {}
    Permit(Permit&& other) noexcept = default;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    Permit& operator=(Permit&&) = delete;
    ~Permit();

   private:
    std::shared_ptr<State> m_state;
  };

  explicit AsyncSemaphore(std::size_t permits);
  ~AsyncSemaphore();
  AsyncSemaphore(const AsyncSemaphore&) = delete;
  AsyncSemaphore& operator=(const AsyncSemaphore&) = delete;

  // A permit, or nullopt once closed.
  boost::asio::awaitable<std::optional<Permit>> acquire();
  void close();
  std::size_t waiting() const;

 private:
  std::shared_ptr<State> m_state;
};

}  // namespace lbctl
