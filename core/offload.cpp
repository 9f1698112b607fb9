#include "core/offload.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <thread>

namespace lbctl {

struct Lane::Impl {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
};

Lane::Lane() : m_impl(std::make_unique<Impl>()) {}

Lane::~Lane() {
  m_impl->work.reset();
  m_impl->thread.join();
}

boost::asio::any_io_executor Lane::executor() const { return m_impl->io.get_executor(); }

bool Lane::settles(std::chrono::milliseconds timeout) const {
  auto done = std::make_shared<std::promise<void>>();
  auto settled = done->get_future();
  boost::asio::post(m_impl->io, [done] { done->set_value(); });
  return settled.wait_for(timeout) == std::future_status::ready;
}

}  // namespace lbctl
