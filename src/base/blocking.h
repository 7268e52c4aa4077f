#pragma once
// Runs blocking work (database, blob store, password hashing) on the worker pool and resumes
// the awaiting coroutine on its own executor, so IO threads never block.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>

namespace veza {

template <class Fn>
auto RunBlocking(boost::asio::thread_pool& pool, Fn fn)
    -> boost::asio::awaitable<std::invoke_result_t<Fn>> {
  using R = std::invoke_result_t<Fn>;
  namespace asio = boost::asio;
  return asio::async_initiate<decltype(asio::use_awaitable), void(R)>(
      [&pool](auto handler, Fn f) mutable {
        // Keep the caller's executor alive while the work runs elsewhere.
        auto work = asio::prefer(asio::get_associated_executor(handler),
                                 asio::execution::outstanding_work.tracked);
        asio::post(pool, [f = std::move(f), handler = std::move(handler),
                          work = std::move(work)]() mutable {
          R result = f();
          asio::dispatch(work, [result = std::move(result), handler = std::move(handler)]() mutable {
            std::move(handler)(std::move(result));
          });
        });
      },
      asio::use_awaitable, std::move(fn));
}

}  // namespace veza
