#include "demo_app/database_check.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <libpq-fe.h>
#include <memory>

namespace lbctl::demo_app {

namespace {

constexpr std::size_t k_max_reason = 300;

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running...");
// the first line is the reason, and it names host and user, never the password.
std::string first_line(const char* message) {
  std::string text = message != nullptr ? message : "";
  text = text.substr(0, text.find('\n'));
  if (text.size() > k_max_reason) text = text.substr(0, k_max_reason) + "...";
  return text.empty() ? "unknown error" : text;
}

}  // namespace

bool is_valid_conninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (options == nullptr) return false;
  PQconninfoFree(options);
  return true;
}

DatabaseVerdict check_database(const std::string& conninfo) {
  // Keywords are read in order and the expanded conninfo comes last, so it may set its own timeout.
  const char* const keywords[] = {"connect_timeout", "dbname", nullptr};
  const char* const values[] = {"2", conninfo.c_str(), nullptr};
  const std::unique_ptr<PGconn, decltype(&PQfinish)> connection(PQconnectdbParams(keywords, values, 1), &PQfinish);
  if (!connection) return {false, "cannot connect: out of memory"};
  if (PQstatus(connection.get()) != CONNECTION_OK) return {false, "cannot connect: " + first_line(PQerrorMessage(connection.get()))};
  const std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(connection.get(), "SELECT 1"), &PQclear);
  if (!result) return {false, "SELECT 1 failed: " + first_line(PQerrorMessage(connection.get()))};
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return {false, "SELECT 1 failed: " + first_line(PQresultErrorMessage(result.get()))};
  return {true, "ok"};
}

DatabaseChecker::DatabaseChecker(std::string conninfo, std::size_t threads)
    : m_conninfo(std::move(conninfo)), m_pool(m_conninfo.empty() ? 1 : threads) {}

DatabaseChecker::~DatabaseChecker() { shutdown(); }

void DatabaseChecker::shutdown() {
  m_pool.stop();
  m_pool.join();
}

boost::asio::awaitable<DatabaseVerdict> DatabaseChecker::check() {
  if (m_conninfo.empty()) co_return DatabaseVerdict{false, "no database configured"};
  co_return co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(DatabaseVerdict)>(
      [this](auto handler) {
        auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
        boost::asio::post(m_pool, [this, handler = std::move(handler), work = std::move(work)]() mutable {
          DatabaseVerdict verdict = check_database(m_conninfo);
          auto executor = work.get_executor();
          // The guard travels with the answer, so the event loop cannot run dry before it arrives.
          boost::asio::post(executor, [handler = std::move(handler), work = std::move(work), verdict = std::move(verdict)]() mutable {
            std::move(handler)(std::move(verdict));
          });
        });
      },
      boost::asio::use_awaitable);
}

}  // namespace lbctl::demo_app
