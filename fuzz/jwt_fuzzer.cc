// libFuzzer target for access-token verification (src/services/auth/jwt.cc): whatever a client
// puts after "Bearer ", VerifyAccessToken answers, never crashes, and accepts only what the
// fixed test key signed with the expected issuer, audience, type and lifetime.
// The key and the clock are fixed so that the seed tokens in fuzz/corpus/jwt verify and the
// fuzzer explores the claim checks behind the signature; set JWT_FUZZER_WRITE_SEEDS=DIR to
// regenerate them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "services/auth/jwt.h"
#include "services/auth/signing_keys.h"

using namespace veza::auth;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;

struct Fixture {
  KeyRing ring;
  JwtOptions options{"https://veza.test", "veza-api", std::chrono::seconds(900), std::chrono::seconds(30)};
  Fixture() {
    auto key = SigningKey::FromPrivateKeyBytes(std::string(32, '\x2a'));
    if (!key || !ring.Rotate(std::move(*key)).ok()) __builtin_trap();
  }
};

Fixture& F() {
  static Fixture* f = new Fixture;
  return *f;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("JWT_FUZZER_WRITE_SEEDS")) {
    int i = 0;
    for (std::string role : {"user", "moderator", "admin"}) {
      AccessClaims claims;
      claims.sub = "0190a8b0-0000-7000-8000-00000000000" + std::to_string(i);
      claims.role = role;
      claims.sid = "session-" + std::to_string(i);
      claims.iat = kNow - 10;
      auto issued = IssueAccessToken(F().ring, F().options, claims, kNow);
      if (!issued) __builtin_trap();
      std::ofstream(std::string(dir) + "/token" + std::to_string(i++)) << issued->token;
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view token(reinterpret_cast<const char*>(data), size);
  JwtRejection why = JwtRejection::kNone;
  auto claims = VerifyAccessToken(F().ring, F().options, token, kNow, &why);
  if (claims) {
    if (why != JwtRejection::kNone || claims->sub.empty() || token.size() > kMaxAccessTokenSize ||
        claims->exp <= kNow - 30)
      __builtin_trap();
  } else if (why == JwtRejection::kNone) {
    __builtin_trap();
  }
  return 0;
}
