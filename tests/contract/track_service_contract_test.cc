// The tracks service and the media job runner over real databases (SQLite, PostgreSQL), a real
// local blob store and the in-process bus, with the fake media processor from testing/ standing
// in for FFmpeg (the real pipeline runs in the functional tests).
#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>

#include "backends/blob_local/local_blob_store.h"
#include "backends/bus_inproc/inproc_event_bus.h"
#include "fake_media_processor.h"
#include "services/auth/user_repository.h"
#include "services/tracks/media_jobs.h"
#include "services/tracks/track_service.h"
#include "test_database.h"
#include "test_support.h"
#include "veza_process.h"

namespace veza::tracks {
namespace {

class TrackServiceContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    test_db_ = std::make_unique<test::TestDatabase>(GetParam());
    ASSERT_TRUE(test_db_->ok());
    ASSERT_OK(ApplyMigrations(test_db_->db(), EmbeddedMigrations(test_db_->db().Dialect())));
    auto blobs = OpenLocalBlobStore("file://" + (dir_.path() / "blobs").string());
    ASSERT_OK(blobs);
    blobs_ = std::move(*blobs);
    auto bus = OpenInprocEventBus("inproc://", nullptr);  // in memory: a restart loses the queue
    ASSERT_OK(bus);
    bus_ = std::move(*bus);
    UserRepository users(test_db_->db());
    alice_ = users.Create({"alice", "alice@example.com", std::nullopt, ""}, 1)->id;
    bob_ = users.Create({"bob", "bob@example.com", std::nullopt, ""}, 1)->id;
    TrackOptions options;
    options.staging_dir = dir_.path() / "staging";
    options.storage_quota_bytes = 10'000;
    options.max_upload_bytes = 6'000;
    service_ = std::make_unique<TrackService>(test_db_->db(), *blobs_, *bus_, &media_, clock_,
                                              options, "secret");
    MediaJobOptions job_options;
    job_options.temp_dir = dir_.path() / "media-tmp";
    job_options.retry_delay = std::chrono::milliseconds(1);
    runner_ =
        std::make_unique<MediaJobRunner>(*service_, *blobs_, *bus_, media_, clock_, job_options);
  }
  void TearDown() override {
    runner_.reset();
    service_.reset();
  }

  std::filesystem::path File(const std::string& name, const std::string& bytes) {
    auto path = dir_.path() / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  Track Upload(const std::string& owner, const std::string& bytes = std::string(1000, 'w'),
               Visibility v = Visibility::kPublic) {
    auto t =
        service_->CreateFromFile(owner, File("in.wav", bytes), {"take_01.wav", "audio/wav", "", v});
    EXPECT_OK(t);
    return t.ok() ? *t : Track{};
  }
  std::vector<std::string> Keys(const std::string& prefix) {
    std::vector<std::string> keys;
    auto listed = blobs_->List(prefix, "", 1000);
    EXPECT_OK(listed);
    if (listed.ok()) {
      for (const BlobInfo& b : *listed) keys.push_back(b.key);
    }
    return keys;
  }
  bool TempDirIsEmpty() {
    std::error_code ec;
    return !std::filesystem::exists(dir_.path() / "media-tmp", ec) ||
           std::filesystem::is_empty(dir_.path() / "media-tmp", ec);
  }

  test::TempDir dir_;
  std::unique_ptr<test::TestDatabase> test_db_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<EventBus> bus_;
  test::FakeMediaProcessor media_;
  SystemClock clock_;
  std::unique_ptr<TrackService> service_;
  std::unique_ptr<MediaJobRunner> runner_;
  std::string alice_, bob_;
};

TEST_P(TrackServiceContractTest, AnUploadBecomesReadyWithEveryOutputUnderItsPrefix) {
  Track t = Upload(alice_);
  EXPECT_EQ(t.state, TrackState::kUploaded);
  EXPECT_EQ(t.title, "take_01");
  EXPECT_EQ(*blobs_->GetAll(t.original_key), std::string(1000, 'w'));

  EXPECT_EQ(runner_->Run(t.id, 1), MediaJobRunner::Outcome::kDone);
  auto ready = service_->Get({alice_}, t.id);
  ASSERT_OK(ready);
  EXPECT_EQ(ready->state, TrackState::kReady);
  EXPECT_EQ(ready->title, "Tagged Title");  // the file name gave way to the tag
  EXPECT_EQ(ready->artist, "Tagged Artist");
  EXPECT_EQ(ready->format.duration_ms, 1000);
  std::string prefix = "tracks/" + t.id + "/";
  auto keys = Keys(prefix);
  for (const char* rel : {"original", "hls/master.m3u8", "hls/128k/index.m3u8", "hls/64k/seg0.ts",
                          "stream.m4a", "stream.opus", "waveform.json"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), prefix + rel), keys.end()) << rel;
  }
  EXPECT_TRUE(TempDirIsEmpty());

  // Idempotent: a second delivery of the same job does nothing.
  EXPECT_EQ(runner_->Run(t.id, 1), MediaJobRunner::Outcome::kDone);
  EXPECT_EQ(media_.process_calls.load(), 1);
}

TEST_P(TrackServiceContractTest, UndecodableFilesAreRefusedAtUploadOrFailedWithTheReason) {
  auto refused = service_->CreateFromFile(alice_, File("bad.wav", "CORRUPT data"),
                                          {"bad.wav", "audio/wav", "", {}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnprocessable);
  EXPECT_TRUE(Keys("tracks/").empty());

  // A file the probe let through but the pipeline refuses: failed at once, no retry.
  Track t = Upload(alice_);
  ASSERT_OK(blobs_->Put(t.original_key, "CORRUPT now"));
  EXPECT_EQ(runner_->Run(t.id, 1), MediaJobRunner::Outcome::kDone);
  auto failed = service_->Get({alice_}, t.id);
  EXPECT_EQ(failed->state, TrackState::kFailed);
  EXPECT_EQ(failed->failure_reason, "not an audio file");
  EXPECT_TRUE(TempDirIsEmpty());
}

TEST_P(TrackServiceContractTest, PassingErrorsAreRetriedAndTheTrackFailsAfterThreeAttempts) {
  Track t = Upload(alice_);
  media_.fail_next = 1;
  EXPECT_EQ(runner_->Run(t.id, 1), MediaJobRunner::Outcome::kRetry);
  EXPECT_EQ(runner_->Run(t.id, 2), MediaJobRunner::Outcome::kDone);
  EXPECT_EQ(service_->Get({alice_}, t.id)->state, TrackState::kReady);

  Track u = Upload(alice_);
  media_.fail_next = 10;
  EXPECT_EQ(runner_->Run(u.id, 1), MediaJobRunner::Outcome::kRetry);
  EXPECT_EQ(runner_->Run(u.id, 2), MediaJobRunner::Outcome::kRetry);
  EXPECT_EQ(runner_->Run(u.id, 3), MediaJobRunner::Outcome::kDone);
  auto failed = service_->Get({alice_}, u.id);
  EXPECT_EQ(failed->state, TrackState::kFailed);
  EXPECT_EQ(failed->failure_reason, "processing failed after 3 attempts");
  EXPECT_TRUE(TempDirIsEmpty());
}

TEST_P(TrackServiceContractTest,
       WorkersTakePendingTracksFromTheDatabaseAtStartAndPublishTheirState) {
  Track t = Upload(alice_);
  // Lose the queued job, as a restart of the in-process bus would.
  ASSERT_OK(bus_->Fetch(kMediaQueue, std::chrono::milliseconds(1000)));
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> events;
  auto sub = bus_->Subscribe("tracks." + t.id + ".state", [&](const Event& e) {
    std::lock_guard lock(m);
    events.push_back(e.payload);
    cv.notify_all();
  });
  ASSERT_OK(sub);
  ASSERT_OK(runner_->Start());
  std::unique_lock lock(m);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] {
    return !events.empty() && events.back().find("\"ready\"") != std::string::npos;
  }));
  lock.unlock();
  runner_->Stop();
  EXPECT_EQ(service_->Get({alice_}, t.id)->state, TrackState::kReady);
  EXPECT_NE(events.front().find("\"processing\""), std::string::npos);
}

TEST_P(TrackServiceContractTest, PrivateTracksAreHiddenAndOnlyOwnersEditButModeratorsMayDelete) {
  Track secret = Upload(alice_, std::string(100, 'p'), Visibility::kPrivate);
  EXPECT_EQ(service_->Get({bob_}, secret.id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(service_->Get({}, secret.id).error().code, ErrorCode::kNotFound);
  EXPECT_OK(service_->Get({alice_}, secret.id));
  EXPECT_OK(service_->Get({bob_, true}, secret.id));
  TrackEdit edit;
  edit.title = "mine";
  EXPECT_EQ(service_->Edit({bob_}, secret.id, edit).error().code, ErrorCode::kNotFound);

  Track open = Upload(alice_, std::string(100, 'o'));
  EXPECT_EQ(service_->Edit({bob_}, open.id, edit).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(service_->Delete({bob_}, open.id).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(service_->Edit({alice_}, open.id, edit)->title, "mine");
  ASSERT_EQ(runner_->Run(open.id, 1), MediaJobRunner::Outcome::kDone);
  EXPECT_FALSE(Keys("tracks/" + open.id + "/").empty());
  ASSERT_OK(service_->Delete({bob_, true}, open.id));
  EXPECT_TRUE(Keys("tracks/" + open.id + "/").empty());
  EXPECT_EQ(service_->Get({alice_}, open.id).error().code, ErrorCode::kNotFound);
}

TEST_P(TrackServiceContractTest, QuotaAndUploadLimitAreEnforced) {
  EXPECT_EQ(service_->CheckQuota(alice_, 6'001).error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_OK(service_->CheckQuota(alice_, 6'000));
  Upload(alice_, std::string(5'000, 'q'));
  EXPECT_OK(service_->CheckQuota(alice_, 5'000));
  EXPECT_EQ(service_->CheckQuota(alice_, 5'001).error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_OK(service_->CheckQuota(bob_, 6'000));
}

TEST_P(TrackServiceContractTest, StreamTokensFollowVisibility) {
  Track t = Upload(alice_);
  EXPECT_FALSE(service_->StreamToken({bob_}, t).has_value());  // not ready yet
  ASSERT_EQ(runner_->Run(t.id, 1), MediaJobRunner::Outcome::kDone);
  t = *service_->Get({alice_}, t.id);
  auto listener = service_->StreamToken({bob_}, t);
  auto anonymous = service_->StreamToken({}, t);
  auto owner = service_->StreamToken({alice_}, t);
  ASSERT_TRUE(listener && anonymous && owner);
  EXPECT_EQ(*service_->CheckToken(t, *listener), TokenScope::kListener);
  EXPECT_EQ(*service_->CheckToken(t, *owner), TokenScope::kOwner);
  TrackEdit hide;
  hide.visibility = Visibility::kPrivate;
  t = *service_->Edit({alice_}, t.id, hide);
  EXPECT_EQ(service_->CheckToken(t, *listener).error().code, ErrorCode::kNotFound);
  EXPECT_OK(service_->CheckToken(t, *owner));
  EXPECT_FALSE(service_->StreamToken({bob_}, t).has_value());
  std::string forged = *owner;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(service_->CheckToken(t, forged).error().code, ErrorCode::kPermissionDenied);
}

INSTANTIATE_TEST_SUITE_P(Backends, TrackServiceContractTest, testing::Values("sqlite", "postgres"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace veza::tracks
