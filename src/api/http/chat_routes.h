#pragma once
// Chat over REST (/api/v1/chat/...) and the WebSocket endpoint /ws (protocol: docs/websocket.md).
#include <boost/asio/thread_pool.hpp>

#include "api/http/router.h"
#include "ports/cache.h"
#include "api/http/metrics.h"
#include "ports/event_bus.h"
#include "services/auth/auth_service.h"
#include "services/chat/chat_service.h"
#include "services/moderation/moderation_service.h"

namespace veza::http {

struct ChatSocketOptions {
  // Per socket; beyond either limit the socket is closed with 4008 (a reader too slow for the
  // room, or one that asks for history pages it never reads).
  std::size_t max_queued_frames = 256;
  std::size_t max_queued_bytes = 2 << 20;
  std::chrono::milliseconds heartbeat{25'000};   // ping + session check interval
  int max_frames_per_second = 20;                // per socket, averaged over 5 s; beyond: error frames
};

void AddChatRoutes(Router& router, auth::AuthService& auth, chat::ChatService& chat, EventBus& bus, Cache& cache,
                   boost::asio::thread_pool& workers, ChatSocketOptions options = {},
                   moderation::ModerationService* moderation = nullptr, Metrics* metrics = nullptr);

}  // namespace veza::http
