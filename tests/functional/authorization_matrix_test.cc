// Every endpoint the server serves, called as anonymous, another user, the resource's owner, a
// moderator and an admin, with the status each must get. A route in docs/api/openapi.yaml
// without a row here fails the test, so a new endpoint cannot skip the matrix.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "api_test.h"
#include "http_client.h"
#include "test_support.h"
#include "veza_process.h"

namespace veza {
namespace {

namespace json = boost::json;
using test::Http;
using test::HttpResponse;

constexpr const char* kPassword = "violet kettle 93 drums";

struct Caller {
  std::string label;
  std::string name;  // username; "" for anonymous
  std::string id;
  std::string access;
};

struct Row {
  std::string op;  // "METHOD /pattern" as in the OpenAPI document
  std::string target;
  std::string body;           // "{caller}" is replaced by the caller's label
  std::vector<int> expected;  // anonymous, other, owner, moderator, admin
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers = {};
};

class AuthorizationMatrixTest : public test::ApiTest {
 protected:
  // No media role: tracks stay as the test puts them (MakeReady) instead of changing state
  // while the matrix runs.
  std::vector<std::string> ExtraServeArgs() const override { return {"--roles", "http,ws"}; }

  HttpResponse Call(const std::string& method, const std::string& target, const std::string& body,
                    const std::string& content_type, const std::string& bearer,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!body.empty()) headers.emplace_back("Content-Type", content_type);
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    return Http("127.0.0.1", veza_->port(), {method, target, body, headers},
                std::chrono::seconds(30));
  }
  Caller Make(const std::string& label, const std::string& name, const std::string& role) {
    auto r = Post("/api/v1/auth/register", R"({"username":")" + name + R"(","email":")" + name +
                                               R"(@example.com","password":")" + kPassword + "\"}");
    EXPECT_EQ(r.status, 201) << r.body;
    json::object o = json::parse(r.body).as_object();
    if (role != "user") Sql("UPDATE users SET role='" + role + "' WHERE username='" + name + "'");
    return {label, name, Str(o.at("user").as_object(), "id"), Str(o, "access_token")};
  }
  // A second session of `name`: its id and access token.
  std::pair<std::string, std::string> SecondSession(const std::string& name) {
    auto r = Post("/api/v1/auth/login",
                  R"({"login":")" + name + R"(","password":")" + kPassword + "\"}");
    EXPECT_EQ(r.status, 200) << r.body;
    json::object o = json::parse(r.body).as_object();
    return {Str(o, "session_id"), Str(o, "access_token")};
  }
  void Sql(const std::string& statement) {
    std::string db = (dir_.path() / "data" / "veza.db").string();
    std::string cmd = "sqlite3 -cmd '.timeout 5000' " + db + " \"" + statement + "\"";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  json::object Created(const HttpResponse& r) {
    EXPECT_TRUE(r.status == 200 || r.status == 201) << r.body;
    return r.status < 300 ? json::parse(r.body).as_object() : json::object{};
  }
  // A multipart track upload of a small WAV.
  static std::string MultipartWav(const std::string& visibility) {
    return "--B0und\r\nContent-Disposition: form-data; name=\"visibility\"\r\n\r\n" + visibility +
           "\r\n--B0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
           "Content-Type: audio/wav\r\n\r\n" +
           test::NoiseWav(20'000, 3) + "\r\n--B0und--\r\n";
  }
  // What the media job leaves behind, without running FFmpeg (as in TracksTest).
  void MakeReady(const std::string& id) {
    auto put = [&](const std::string& rel, const std::string& bytes) {
      auto file = dir_.path() / "data" / "blobs" / "tracks" / id / rel;
      std::filesystem::create_directories(file.parent_path());
      std::ofstream(file, std::ios::binary) << bytes;
    };
    put("stream.m4a", test::NoiseWav(10'000, 7));
    put("waveform.json", R"({"version":1,"points":3,"peaks":[0.1,0.5,0.2]})");
    put("cover.jpg", "\xff\xd8\xff\xe0 not really a jpeg");
    put("hls/master.m3u8", "#EXTM3U\n");
    Sql("UPDATE tracks SET state='ready', progress=100, duration_ms=1000, waveform_points=3, "
        "has_cover=1 WHERE id='" + id + "'");
  }
  std::string TinyPng() {
    std::string out = (dir_.path() / "tiny.png").string();
    std::string cmd =
        "ffmpeg -hide_banner -loglevel error -y -f lavfi -i color=teal:size=64x64 -frames:v 1 " +
        out;
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    std::ifstream in(out, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // Every "METHOD /path" of the OpenAPI document the server serves.
  std::set<std::string> DocumentedOperations() {
    auto doc = test::Get(veza_->port(), "/api/v1/openapi.yaml");
    EXPECT_EQ(doc.status, 200);
    std::set<std::string> ops;
    std::istringstream in(doc.body);
    std::string line, path;
    static const std::regex kPath(R"(^  (/[^:]*):\s*$)");
    static const std::regex kMethod(R"(^    (get|put|post|patch|delete|head|options):)");
    bool in_paths = false;
    while (std::getline(in, line)) {
      if (line == "paths:") {
        in_paths = true;
        continue;
      }
      if (!line.empty() && line[0] != ' ') in_paths = false;
      if (!in_paths) continue;
      std::smatch m;
      if (std::regex_match(line, m, kPath))
        path = m[1];
      else if (std::regex_search(line, m, kMethod)) {
        std::string method = m[1];
        for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        ops.insert(method + " " + path);
      }
    }
    return ops;
  }
};

TEST_F(AuthorizationMatrixTest, EveryEndpointAnswersEachKindOfCallerAsItShould) {
  Caller anonymous{"anonymous", "", "", ""};
  Caller other = Make("other", "olga", "user");
  Caller owner = Make("owner", "owen", "user");
  Caller moderator = Make("moderator", "mona", "moderator");
  Caller admin = Make("admin", "adam", "admin");
  std::vector<Caller> callers = {anonymous, other, owner, moderator, admin};

  // Resources that belong to the owner.
  auto [owner_session, owner_session_access] = SecondSession("owen");
  std::string identity = "0191d1f0-0000-7000-8000-00000000a11c";
  Sql("INSERT INTO user_identities (id, user_id, provider, subject, email, created_at, "
      "last_used_at) VALUES ('" +
      identity + "', '" + owner.id + "', 'mock', 'owen-at-mock', '', 0, 0)");
  std::string png = TinyPng();
  const std::string wrong_password = R"({"password":"not the password"})";

  // The owner's private track (ready), one to delete, and a tus upload in progress.
  const std::string multipart = "multipart/form-data; boundary=B0und";
  auto upload = [&](const std::string& visibility) {
    return Str(Created(Call("POST", "/api/v1/tracks", MultipartWav(visibility), multipart,
                            owner.access)),
               "id");
  };
  std::string track = upload("private");
  std::string doomed_track = upload("private");
  MakeReady(track);
  std::string owner_token =
      Str(Created(Call("GET", "/api/v1/tracks/" + track, "", "", owner.access)), "stream_url");
  owner_token = owner_token.substr(owner_token.rfind('/') + 1);
  const std::vector<std::pair<std::string, std::string>> tus = {{"Tus-Resumable", "1.0.0"}};
  auto tus_upload = Call("POST", "/api/v1/uploads", "", "", owner.access,
                         {{"Tus-Resumable", "1.0.0"}, {"Upload-Length", "100"}});
  ASSERT_EQ(tus_upload.status, 201) << tus_upload.body;
  std::string upload_path = std::string(tus_upload.Header("location"));
  upload_path = upload_path.substr(upload_path.find("/api/v1/uploads/"));
  // The owner's private room (the moderator and admin are not members) and a public one.
  std::string room = Str(Created(Call("POST", "/api/v1/chat/rooms",
                                      R"({"name":"owners","kind":"private"})",
                                      "application/json", owner.access)),
                         "id");
  std::string public_room = Str(Created(Call("POST", "/api/v1/chat/rooms", R"({"name":"lobby"})",
                                             "application/json", owner.access)),
                                "id");
  std::string doomed_room = Str(Created(Call("POST", "/api/v1/chat/rooms",
                                             R"({"name":"doomed","kind":"private"})",
                                             "application/json", owner.access)),
                                "id");

  // Social resources of the owner: a public and a private track (as the media job leaves them),
  // a private playlist holding the public track, and a comment on the public track.
  std::string open_track = "0191d1f0-0000-7000-8000-0000000050a1";
  std::string secret_track = "0191d1f0-0000-7000-8000-0000000050a2";
  for (const auto& [id, visibility] : {std::pair{open_track, "public"}, std::pair{secret_track, "private"}}) {
    Sql("INSERT INTO tracks (id, owner_id, title, visibility, state, duration_ms, original_key, original_size, "
        "original_content_type, created_at, updated_at) VALUES ('" + id + "', '" + owner.id + "', 't', '" +
        visibility + "', 'ready', 60000, 'k', 1, 'audio/wav', 1, 1)");
  }
  auto made_playlist = Post("/api/v1/playlists", R"({"title":"Owner's","visibility":"private"})", owner.access);
  EXPECT_EQ(made_playlist.status, 201) << made_playlist.body;
  std::string playlist = Str(json::parse(made_playlist.body).as_object(), "id");
  EXPECT_EQ(Post("/api/v1/playlists/" + playlist + "/items", R"({"track_id":")" + open_track + "\"}",
                 owner.access).status, 204);
  auto made_comment = Post("/api/v1/tracks/" + open_track + "/comments", R"({"body":"first","at_ms":1})",
                           owner.access);
  EXPECT_EQ(made_comment.status, 201) << made_comment.body;
  std::string comment = Str(json::parse(made_comment.body).as_object(), "id");
  auto made_other_comment = Post("/api/v1/tracks/" + open_track + "/comments", R"({"body":"second","at_ms":2})",
                                 admin.access);
  std::string other_comment = Str(json::parse(made_other_comment.body).as_object(), "id");

  // Moderation: a public room of the owner's with three of the owner's messages, a report on
  // the second (by other), a mute of other, and a filter word.
  const std::string mod_room = "0191d1f0-0000-7000-8000-00000000d001";
  const std::string mod_message = "0191d1f0-0000-7000-8000-00000000d011";
  const std::string mod_reported = "0191d1f0-0000-7000-8000-00000000d012";
  const std::string mod_deleted = "0191d1f0-0000-7000-8000-00000000d013";
  const std::string mod_report = "0191d1f0-0000-7000-8000-00000000d021";
  const std::string mod_sanction = "0191d1f0-0000-7000-8000-00000000d031";
  const std::string mod_word = "0191d1f0-0000-7000-8000-00000000d041";
  const std::string mod_word_deleted = "0191d1f0-0000-7000-8000-00000000d042";
  Sql("INSERT INTO chat_rooms (id, kind, name, owner_id, last_seq, created_at) VALUES ('" + mod_room +
      "', 'public', 'matrix', '" + owner.id + "', 3, 0)");
  int mod_seq = 0;
  for (const std::string& m : {mod_message, mod_reported, mod_deleted}) {
    ++mod_seq;
    Sql("INSERT INTO chat_messages (id, room_id, seq, sender_id, client_id, body, created_at) VALUES ('" + m + "', '" +
        mod_room + "', " + std::to_string(mod_seq) + ", '" + owner.id + "', 'c" + std::to_string(mod_seq) +
        "', 'hello', 0)");
  }
  Sql("INSERT INTO moderation_reports (id, message_id, room_id, message_seq, message_body, message_created_at, "
      "reporter_id, reported_user_id, reason, created_at) VALUES ('" + mod_report + "', '" + mod_reported + "', '" +
      mod_room + "', 2, 'hello', 0, '" + other.id + "', '" + owner.id + "', 'rude', 0)");
  Sql("INSERT INTO moderation_sanctions (id, kind, user_id, room_id, reason, created_by, created_at) VALUES ('" +
      mod_sanction + "', 'mute', '" + other.id + "', '" + mod_room + "', 'matrix', '" + admin.id + "', 0)");
  // Per-room staff: a public room of the owner's with a message of other's and a mute of tess's
  // set by the owner (room staff), where tess is kicked.
  Caller tess = Make("target", "tess", "user");
  const std::string staff_room = "0191d1f0-0000-7000-8000-00000000e001";
  const std::string staff_message = "0191d1f0-0000-7000-8000-00000000e011";
  const std::string staff_sanction = "0191d1f0-0000-7000-8000-00000000e031";
  Sql("INSERT INTO chat_rooms (id, kind, name, owner_id, last_seq, created_at) VALUES ('" + staff_room +
      "', 'public', 'staffed', '" + owner.id + "', 1, 0)");
  Sql("INSERT INTO chat_messages (id, room_id, seq, sender_id, client_id, body, created_at) VALUES ('" + staff_message +
      "', '" + staff_room + "', 1, '" + other.id + "', 'c1', 'hello', 0)");
  Sql("INSERT INTO moderation_sanctions (id, kind, user_id, room_id, reason, created_by, created_at) VALUES ('" +
      staff_sanction + "', 'mute', '" + tess.id + "', '" + staff_room + "', 'matrix', '" + owner.id + "', 0)");
  Sql("INSERT INTO moderation_words (id, word, action, created_by, created_at) VALUES ('" + mod_word +
      "', 'matrix', 'mask', '" + admin.id + "', 0), ('" + mod_word_deleted + "', 'gone', 'mask', '" + admin.id + "', 0)");

  // Statuses: anonymous, other, owner, moderator, admin. "Own account" endpoints act on the
  // caller's own account, so every signed-in caller is its owner there.
  std::vector<Row> rows = {
      {"GET /healthz", "/healthz", "", {200, 200, 200, 200, 200}},
      {"GET /readyz", "/readyz", "", {200, 200, 200, 200, 200}},
      {"GET /metrics", "/metrics", "", {200, 200, 200, 200, 200}},
      {"GET /api/v1/version", "/api/v1/version", "", {200, 200, 200, 200, 200}},
      {"GET /api/v1/openapi.yaml", "/api/v1/openapi.yaml", "", {200, 200, 200, 200, 200}},
      {"GET /api/v1/auth/jwks.json", "/api/v1/auth/jwks.json", "", {200, 200, 200, 200, 200}},
      {"POST /api/v1/auth/register",
       "/api/v1/auth/register",
       R"({"username":"new-{caller}","email":"new-{caller}@example.com","password":"violet kettle 93 drums"})",
       {201, 201, 201, 201, 201}},
      {"POST /api/v1/auth/login",
       "/api/v1/auth/login",
       R"({"login":"owen","password":"violet kettle 93 drums"})",
       {200, 200, 200, 200, 200}},
      {"POST /api/v1/auth/login/2fa",
       "/api/v1/auth/login/2fa",
       R"({"mfa_token":"nope","code":"123456"})",
       {401, 401, 401, 401, 401}},
      {"POST /api/v1/auth/refresh",
       "/api/v1/auth/refresh",
       R"({"refresh_token":"nope"})",
       {401, 401, 401, 401, 401}},
      {"GET /api/v1/users/me", "/api/v1/users/me", "", {401, 200, 200, 200, 200}},
      {"PATCH /api/v1/users/me",
       "/api/v1/users/me",
       R"({"bio":"hello from {caller}"})",
       {401, 200, 200, 200, 200}},
      {"DELETE /api/v1/users/me", "/api/v1/users/me", wrong_password, {401, 403, 403, 403, 403}},
      {"GET /api/v1/users/{username}", "/api/v1/users/owen", "", {200, 200, 200, 200, 200}},
      {"PUT /api/v1/users/me/avatar",
       "/api/v1/users/me/avatar",
       png,
       {401, 200, 200, 200, 200},
       "image/png"},
      {"GET /api/v1/users/{username}/avatar",
       "/api/v1/users/owen/avatar?size=128",
       "",
       {200, 200, 200, 200, 200}},
      {"DELETE /api/v1/users/me/avatar", "/api/v1/users/me/avatar", "", {401, 204, 204, 204, 204}},
      {"POST /api/v1/auth/change-password",
       "/api/v1/auth/change-password",
       R"({"current_password":"not the password","new_password":"another long passphrase 7"})",
       {401, 403, 403, 403, 403}},
      {"POST /api/v1/auth/change-email",
       "/api/v1/auth/change-email",
       R"({"password":"not the password","email":"x-{caller}@example.com"})",
       {401, 403, 403, 403, 403}},
      {"GET /api/v1/auth/sessions", "/api/v1/auth/sessions", "", {401, 200, 200, 200, 200}},
      // Sessions are revoked by their owner only; for anyone else the session does not exist.
      {"DELETE /api/v1/auth/sessions/{id}",
       "/api/v1/auth/sessions/" + owner_session,
       "",
       {401, 404, 204, 404, 404}},
      {"POST /api/v1/auth/2fa/totp",
       "/api/v1/auth/2fa/totp",
       wrong_password,
       {401, 403, 403, 403, 403}},
      {"POST /api/v1/auth/2fa/totp/confirm",
       "/api/v1/auth/2fa/totp/confirm",
       R"({"code":"123456"})",
       {401, 409, 409, 409, 409}},
      {"DELETE /api/v1/auth/2fa/totp",
       "/api/v1/auth/2fa/totp",
       R"({"password":"not the password","code":"123456"})",
       {401, 403, 403, 403, 403}},
      {"POST /api/v1/auth/email/verify/request",
       "/api/v1/auth/email/verify/request",
       "",
       {401, 202, 202, 202, 202}},
      {"POST /api/v1/auth/email/verify",
       "/api/v1/auth/email/verify",
       R"({"token":"nope"})",
       {400, 400, 400, 400, 400}},
      {"POST /api/v1/auth/password/forgot",
       "/api/v1/auth/password/forgot",
       R"({"email":"owen@example.com"})",
       {202, 202, 202, 202, 202}},
      {"POST /api/v1/auth/password/reset",
       "/api/v1/auth/password/reset",
       R"({"token":"nope","new_password":"another long passphrase 7"})",
       {400, 400, 400, 400, 400}},
      {"GET /api/v1/auth/oauth/providers",
       "/api/v1/auth/oauth/providers",
       "",
       {200, 200, 200, 200, 200}},
      {"GET /api/v1/auth/oauth/{provider}/start",
       "/api/v1/auth/oauth/none/start",
       "",
       {404, 404, 404, 404, 404}},
      {"POST /api/v1/auth/oauth/{provider}/link",
       "/api/v1/auth/oauth/none/link",
       "",
       {401, 404, 404, 404, 404}},
      {"GET /api/v1/auth/oauth/{provider}/callback",
       "/api/v1/auth/oauth/none/callback?state=s&code=c",
       "",
       {404, 404, 404, 404, 404}},
      {"GET /api/v1/auth/identities", "/api/v1/auth/identities", "", {401, 200, 200, 200, 200}},
      {"DELETE /api/v1/auth/identities/{id}",
       "/api/v1/auth/identities/" + identity,
       "",
       {401, 404, 204, 404, 404}},
      // Tracks: a private track is hidden from other users; moderators and admins may see,
      // play and remove it (to review reports and take it down) but not edit it. Signed URLs
      // carry their own authority, whoever presents them.
      {"GET /api/v1/tracks", "/api/v1/tracks", "", {200, 200, 200, 200, 200}},
      {"POST /api/v1/tracks", "/api/v1/tracks", MultipartWav("public"), {401, 201, 201, 201, 201},
       multipart},
      {"GET /api/v1/users/me/tracks", "/api/v1/users/me/tracks", "", {401, 200, 200, 200, 200}},
      {"GET /api/v1/users/{username}/tracks",
       "/api/v1/users/owen/tracks",
       "",
       {200, 200, 200, 200, 200}},
      {"GET /api/v1/tracks/{id}", "/api/v1/tracks/" + track, "", {404, 404, 200, 200, 200}},
      {"PATCH /api/v1/tracks/{id}",
       "/api/v1/tracks/" + track,
       R"({"description":"by {caller}"})",
       {401, 404, 200, 403, 403}},
      {"POST /api/v1/tracks/{id}/plays", "/api/v1/tracks/" + track + "/plays", "",
       {404, 404, 204, 204, 204}},
      {"GET /api/v1/tracks/{id}/stream", "/api/v1/tracks/" + track + "/stream", "",
       {404, 404, 200, 200, 200}},
      {"GET /api/v1/tracks/{id}/stream/{token}",
       "/api/v1/tracks/" + track + "/stream/" + owner_token,
       "",
       {200, 200, 200, 200, 200}},
      {"GET /api/v1/tracks/{id}/hls/{rest...}",
       "/api/v1/tracks/" + track + "/hls/master.m3u8",
       "",
       {404, 404, 200, 200, 200}},
      {"GET /api/v1/tracks/{id}/waveform", "/api/v1/tracks/" + track + "/waveform", "",
       {404, 404, 200, 200, 200}},
      {"GET /api/v1/tracks/{id}/waveform/{token}",
       "/api/v1/tracks/" + track + "/waveform/" + owner_token,
       "",
       {200, 200, 200, 200, 200}},
      {"GET /api/v1/tracks/{id}/cover", "/api/v1/tracks/" + track + "/cover", "",
       {404, 404, 200, 200, 200}},
      {"GET /api/v1/tracks/{id}/cover/{token}",
       "/api/v1/tracks/" + track + "/cover/" + owner_token,
       "",
       {200, 200, 200, 200, 200}},
      {"DELETE /api/v1/tracks/{id}", "/api/v1/tracks/" + doomed_track, "",
       {401, 404, 204, 404, 404}},
      // tus uploads belong to their creator; to anyone else they do not exist.
      {"OPTIONS /api/v1/uploads", "/api/v1/uploads", "", {204, 204, 204, 204, 204}},
      {"POST /api/v1/uploads", "/api/v1/uploads", "", {401, 201, 201, 201, 201}, "",
       {{"Tus-Resumable", "1.0.0"}, {"Upload-Length", "10"}}},
      {"HEAD /api/v1/uploads/{id}", upload_path, "", {401, 404, 200, 404, 404}, "", tus},
      {"PATCH /api/v1/uploads/{id}", upload_path, "abc", {401, 404, 204, 404, 404},
       "application/offset+octet-stream", {{"Tus-Resumable", "1.0.0"}, {"Upload-Offset", "0"}}},
      {"DELETE /api/v1/uploads/{id}", upload_path, "", {401, 404, 204, 404, 404}, "", tus},
      // Chat: private rooms exist only for their members, whatever the caller's global role.
      {"POST /api/v1/chat/ticket", "/api/v1/chat/ticket", "", {401, 200, 200, 200, 200}},
      // The ticket is the credential: a bearer token is not accepted in its place.
      {"GET /ws", "/ws", "", {401, 401, 401, 401, 401}, "",
       {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"},
        {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}}},
      {"GET /api/v1/chat/rooms", "/api/v1/chat/rooms", "", {401, 200, 200, 200, 200}},
      {"POST /api/v1/chat/rooms",
       "/api/v1/chat/rooms",
       R"({"name":"room of {caller}"})",
       {401, 201, 201, 201, 201}},
      {"POST /api/v1/chat/dm",
       "/api/v1/chat/dm",
       R"({"user_id":")" + admin.id + "\"}",
       {401, 200, 200, 200, 400}},
      {"GET /api/v1/chat/rooms/{id}", "/api/v1/chat/rooms/" + room, "", {401, 404, 200, 404, 404}},
      {"GET /api/v1/chat/rooms/{id}/messages",
       "/api/v1/chat/rooms/" + room + "/messages",
       "",
       {401, 404, 200, 404, 404}},
      {"GET /api/v1/chat/rooms/{id}/members",
       "/api/v1/chat/rooms/" + room + "/members",
       "",
       {401, 404, 200, 404, 404}},
      {"GET /api/v1/chat/rooms/{id}/pins", "/api/v1/chat/rooms/" + room + "/pins", "",
       {401, 404, 200, 404, 404}},
      {"POST /api/v1/chat/rooms/{id}/read", "/api/v1/chat/rooms/" + room + "/read", R"({"seq":0})",
       {401, 404, 200, 404, 404}},
      {"PATCH /api/v1/chat/rooms/{id}", "/api/v1/chat/rooms/" + room, R"({"topic":"by {caller}"})",
       {401, 404, 200, 404, 404}},
      // The owner's own role cannot be changed by anyone; outsiders do not see the room.
      {"PUT /api/v1/chat/rooms/{id}/members/{user_id}",
       "/api/v1/chat/rooms/" + room + "/members/" + owner.id,
       R"({"role":"member"})",
       {401, 404, 400, 404, 404}},
      // Owners and site admins delete rooms; after the owner, the room is gone for the admin.
      {"DELETE /api/v1/chat/rooms/{id}", "/api/v1/chat/rooms/" + doomed_room, "",
       {401, 404, 204, 404, 404}},
      {"POST /api/v1/chat/rooms/{id}/join",
       "/api/v1/chat/rooms/" + room + "/join",
       "",
       {401, 404, 200, 404, 404}},
      {"POST /api/v1/chat/rooms/{id}/members",
       "/api/v1/chat/rooms/" + room + "/members",
       R"({"user_id":")" + other.id + "\"}",
       {401, 404, 204, 404, 404}},
      {"POST /api/v1/chat/rooms/{id}/leave",
       "/api/v1/chat/rooms/" + public_room + "/leave",
       "",
       {401, 204, 400, 204, 204}},
      {"GET /api/v1/search", "/api/v1/search?q=owen&type=all", "", {200, 200, 200, 200, 200}},
      {"GET /api/v1/admin/users", "/api/v1/admin/users", "", {401, 403, 403, 200, 200}},
      {"GET /api/v1/admin/audit-log", "/api/v1/admin/audit-log", "", {401, 403, 403, 403, 200}},
      {"GET /api/v1/admin/errors", "/api/v1/admin/errors", "", {401, 403, 403, 403, 200}},
      {"PATCH /api/v1/admin/users/{id}",
       "/api/v1/admin/users/" + other.id,
       R"({"suspended":false,"reason":"matrix"})",
       {401, 403, 403, 403, 200}},
      // Notifications are the caller's own: every signed-in caller gets their list, nobody else's.
      {"GET /api/v1/notifications", "/api/v1/notifications", "", {401, 200, 200, 200, 200}},
      {"GET /api/v1/notifications/unread-count",
       "/api/v1/notifications/unread-count",
       "",
       {401, 200, 200, 200, 200}},
      {"POST /api/v1/notifications/read",
       "/api/v1/notifications/read",
       R"({"up_to":"0190a8b0-0000-7000-8000-000000000000"})",
       {401, 200, 200, 200, 200}},
      // Social (docs/social.md). A private track or playlist is 404 to those who may not see it.
      {"PUT /api/v1/users/{username}/follow", "/api/v1/users/owen/follow", "", {401, 204, 400, 204, 204}},
      {"GET /api/v1/users/{username}/followers", "/api/v1/users/owen/followers", "", {200, 200, 200, 200, 200}},
      {"GET /api/v1/users/{username}/following", "/api/v1/users/owen/following", "", {200, 200, 200, 200, 200}},
      {"DELETE /api/v1/users/{username}/follow", "/api/v1/users/owen/follow", "", {401, 204, 204, 204, 204}},
      {"PUT /api/v1/tracks/{id}/like", "/api/v1/tracks/" + secret_track + "/like", "", {401, 404, 200, 200, 200}},
      {"DELETE /api/v1/tracks/{id}/like", "/api/v1/tracks/" + secret_track + "/like", "", {401, 404, 200, 200, 200}},
      {"PUT /api/v1/tracks/{id}/repost", "/api/v1/tracks/" + open_track + "/repost", "", {401, 200, 200, 200, 200}},
      {"DELETE /api/v1/tracks/{id}/repost", "/api/v1/tracks/" + open_track + "/repost", "", {401, 200, 200, 200, 200}},
      {"GET /api/v1/tracks/{id}/stats", "/api/v1/tracks/" + secret_track + "/stats", "", {404, 404, 200, 200, 200}},
      {"GET /api/v1/users/{username}/likes", "/api/v1/users/owen/likes", "", {200, 200, 200, 200, 200}},
      {"GET /api/v1/users/{username}/playlists", "/api/v1/users/owen/playlists", "", {200, 200, 200, 200, 200}},
      {"POST /api/v1/tracks/{id}/comments",
       "/api/v1/tracks/" + secret_track + "/comments",
       R"({"body":"hi from {caller}","at_ms":1})",
       {401, 404, 201, 201, 201}},
      {"GET /api/v1/tracks/{id}/comments", "/api/v1/tracks/" + secret_track + "/comments", "", {404, 404, 200, 200, 200}},
      {"PATCH /api/v1/comments/{id}", "/api/v1/comments/" + comment, R"({"body":"edited by {caller}"})",
       {401, 403, 200, 403, 403}},
      // The admin's comment on the owner's track: the track's owner removes it first.
      {"DELETE /api/v1/comments/{id}", "/api/v1/comments/" + other_comment, "", {401, 403, 204, 404, 404}},
      {"POST /api/v1/playlists", "/api/v1/playlists", R"({"title":"{caller}'s"})", {401, 201, 201, 201, 201}},
      {"GET /api/v1/playlists/{id}", "/api/v1/playlists/" + playlist, "", {404, 404, 200, 200, 200}},
      {"PATCH /api/v1/playlists/{id}", "/api/v1/playlists/" + playlist, R"({"description":"by {caller}"})",
       {401, 404, 200, 403, 403}},
      {"GET /api/v1/playlists/{id}/items", "/api/v1/playlists/" + playlist + "/items", "", {404, 404, 200, 200, 200}},
      // The private playlist's cover: set and removed by its owner, seen by whoever sees it.
      {"PUT /api/v1/playlists/{id}/cover", "/api/v1/playlists/" + playlist + "/cover", png, {401, 404, 200, 403, 403},
       "image/png"},
      {"GET /api/v1/playlists/{id}/cover", "/api/v1/playlists/" + playlist + "/cover?size=128", "",
       {404, 404, 200, 200, 200}},
      {"DELETE /api/v1/playlists/{id}/cover", "/api/v1/playlists/" + playlist + "/cover", "", {401, 404, 204, 403, 403}},
      {"POST /api/v1/playlists/{id}/items", "/api/v1/playlists/" + playlist + "/items",
       R"({"track_id":")" + secret_track + "\"}", {401, 404, 204, 403, 403}},
      {"PATCH /api/v1/playlists/{id}/items/{track_id}",
       "/api/v1/playlists/" + playlist + "/items/" + secret_track,
       R"({"position":0})",
       {401, 404, 204, 403, 403}},
      {"DELETE /api/v1/playlists/{id}/items/{track_id}",
       "/api/v1/playlists/" + playlist + "/items/" + secret_track,
       "",
       {401, 404, 204, 403, 403}},
      {"GET /api/v1/playlists/{id}/editors", "/api/v1/playlists/" + playlist + "/editors", "", {404, 404, 200, 200, 200}},
      // Once invited, the other user sees the private playlist (403 instead of 404 next).
      {"PUT /api/v1/playlists/{id}/editors/{username}", "/api/v1/playlists/" + playlist + "/editors/olga", "",
       {401, 404, 204, 403, 403}},
      {"DELETE /api/v1/playlists/{id}/editors/{username}", "/api/v1/playlists/" + playlist + "/editors/olga", "",
       {401, 403, 204, 403, 403}},
      {"DELETE /api/v1/playlists/{id}", "/api/v1/playlists/" + playlist, "", {401, 404, 204, 404, 404}},
      {"GET /api/v1/feed", "/api/v1/feed", "", {401, 200, 200, 200, 200}},
      {"GET /api/v1/discover", "/api/v1/discover", "", {200, 200, 200, 200, 200}},
      // Moderation (docs/moderation.md). One-shot actions (resolve, lift, delete) succeed for the
      // first moderator-or-above caller; the admin after it finds them done (409 or 404).
      {"POST /api/v1/moderation/reports",
       "/api/v1/moderation/reports",
       R"({"message_id":")" + mod_message + R"(","reason":"matrix"})",
       {401, 201, 400, 201, 201}},
      {"GET /api/v1/moderation/reports", "/api/v1/moderation/reports", "", {401, 403, 403, 200, 200}},
      {"GET /api/v1/moderation/reports/{id}", "/api/v1/moderation/reports/" + mod_report, "", {401, 403, 403, 200, 200}},
      {"POST /api/v1/moderation/reports/{id}/resolve",
       "/api/v1/moderation/reports/" + mod_report + "/resolve",
       R"({"action":"dismiss","reason":"matrix"})",
       {401, 403, 403, 200, 409}},
      {"GET /api/v1/moderation/sanctions", "/api/v1/moderation/sanctions", "", {401, 403, 403, 200, 200}},
      {"POST /api/v1/moderation/sanctions",
       "/api/v1/moderation/sanctions",
       R"({"action":"kick","user_id":")" + other.id + R"(","room_id":")" + mod_room + R"(","reason":"matrix"})",
       {401, 403, 403, 204, 204}},
      {"DELETE /api/v1/moderation/sanctions/{id}",
       "/api/v1/moderation/sanctions/" + mod_sanction,
       R"({"reason":"matrix"})",
       {401, 403, 403, 200, 409}},
      {"GET /api/v1/moderation/words", "/api/v1/moderation/words", "", {401, 403, 403, 200, 200}},
      {"POST /api/v1/moderation/words",
       "/api/v1/moderation/words",
       R"({"word":"matrix{caller}","action":"mask"})",
       {401, 403, 403, 201, 201}},
      {"PATCH /api/v1/moderation/words/{id}",
       "/api/v1/moderation/words/" + mod_word,
       R"({"action":"block"})",
       {401, 403, 403, 200, 200}},
      {"DELETE /api/v1/moderation/words/{id}", "/api/v1/moderation/words/" + mod_word_deleted, "", {401, 403, 403, 204, 404}},
      {"DELETE /api/v1/moderation/messages/{id}",
       "/api/v1/moderation/messages/" + mod_deleted,
       R"({"reason":"matrix"})",
       {401, 403, 403, 204, 404}},
      // A room's owner (its staff) and site moderators and admins moderate it; other users do not.
      {"POST /api/v1/chat/rooms/{id}/sanctions",
       "/api/v1/chat/rooms/" + staff_room + "/sanctions",
       R"({"action":"kick","user_id":")" + tess.id + R"(","reason":"matrix"})",
       {401, 403, 204, 204, 204}},
      {"GET /api/v1/chat/rooms/{id}/sanctions", "/api/v1/chat/rooms/" + staff_room + "/sanctions", "",
       {401, 403, 200, 200, 200}},
      // After the owner lifts the mute, it is lifted already for the others.
      {"DELETE /api/v1/chat/rooms/{id}/sanctions/{sanction_id}",
       "/api/v1/chat/rooms/" + staff_room + "/sanctions/" + staff_sanction,
       R"({"reason":"matrix"})",
       {401, 403, 200, 409, 409}},
      {"DELETE /api/v1/chat/rooms/{id}/messages/{message_id}",
       "/api/v1/chat/rooms/" + staff_room + "/messages/" + staff_message,
       R"({"reason":"matrix"})",
       {401, 403, 204, 404, 404}},
      // Analytics: play events from whoever may play the track; stats for the owner and
      // moderators, a private track's for its owner alone; instance stats for moderators.
      {"POST /api/v1/tracks/{id}/play-events", "/api/v1/tracks/" + secret_track + "/play-events",
       R"({"kind":"start","session_id":"matrix-{caller}"})", {404, 404, 202, 202, 202}},
      // Profile views from anyone; the owner's own is accepted (and not counted).
      {"POST /api/v1/users/{username}/views", "/api/v1/users/owen/views", R"({"session_id":"matrix-{caller}"})",
       {202, 202, 202, 202, 202}},
      {"GET /api/v1/analytics/tracks/{id}", "/api/v1/analytics/tracks/" + open_track, "", {401, 403, 200, 200, 200}},
      {"GET /api/v1/analytics/tracks/{id}", "/api/v1/analytics/tracks/" + secret_track, "", {401, 404, 200, 404, 404}},
      {"GET /api/v1/analytics/me", "/api/v1/analytics/me", "", {401, 200, 200, 200, 200}},
      {"GET /api/v1/admin/stats", "/api/v1/admin/stats", "", {401, 403, 403, 200, 200}},
      // Track takedowns: moderators and above; the owner is refused like anyone else, so a
      // takedown cannot be undone by its owner. The admin's restore finds nothing left to restore.
      {"POST /api/v1/admin/tracks/{id}/takedown", "/api/v1/admin/tracks/" + track + "/takedown",
       R"({"reason":"matrix {caller}"})", {401, 403, 403, 200, 200}},
      {"GET /api/v1/admin/tracks/takedowns", "/api/v1/admin/tracks/takedowns", "", {401, 403, 403, 200, 200}},
      {"GET /api/v1/admin/tracks/states", "/api/v1/admin/tracks/states", "", {401, 403, 403, 200, 200}},
      {"DELETE /api/v1/admin/tracks/{id}/takedown", "/api/v1/admin/tracks/" + track + "/takedown", "",
       {401, 403, 403, 200, 409}},
      // Ending sessions last: they end the callers' tokens.
      {"POST /api/v1/auth/logout", "/api/v1/auth/logout", "", {401, 204, 204, 204, 204}},
      {"POST /api/v1/auth/logout-all", "/api/v1/auth/logout-all", "", {401, 401, 401, 401, 401}},
  };
  // The email verify/reset answers for an unknown token: keep what the service says, the same
  // for every caller (the token is the credential, not the bearer).
  for (Row& row : rows) {
    if (row.op == "POST /api/v1/auth/email/verify" ||
        row.op == "POST /api/v1/auth/password/reset") {
      auto probe = Call("POST", row.target, row.body, row.content_type, "");
      row.expected.assign(5, probe.status);
      EXPECT_GE(probe.status, 400) << row.op;
    }
  }

  std::set<std::string> covered;
  for (const Row& row : rows) {
    covered.insert(row.op);
    for (std::size_t i = 0; i < callers.size(); ++i) {
      SCOPED_TRACE(row.op + " as " + callers[i].label);
      std::string body =
          std::regex_replace(row.body, std::regex(R"(\{caller\})"), callers[i].label);
      // logout-all after logout: every caller's main session is already gone (401); the spare
      // sessions are what is left, and they belong to the owner only.
      auto r = Call(row.op.substr(0, row.op.find(' ')), row.target, body, row.content_type,
                    callers[i].access, row.headers);
      EXPECT_EQ(r.status, row.expected[i]) << r.body;
      if (row.expected[i] >= 400) {
        EXPECT_EQ(r.Header("content-type"), "application/problem+json") << r.body;
      }
      if (row.expected[i] == 401) {
        EXPECT_EQ(r.Header("www-authenticate"), "Bearer realm=\"veza\"") << r.body;
      }
    }
  }
  // The owner's spare session still signs in; logout-all with it ends it too.
  EXPECT_EQ(Call("POST", "/api/v1/auth/logout-all", "", "", owner_session_access).status, 401)
      << "the owner revoked this session in the sessions row";

  for (const std::string& op : DocumentedOperations()) {
    EXPECT_TRUE(covered.count(op)) << op << " is served but has no row in the authorisation matrix";
  }
}

}  // namespace
}  // namespace veza
