// The user repository on every database backend, through the migrations veza ships.
#include <gtest/gtest.h>

#include <thread>

#include "services/auth/user_repository.h"
#include "test_database.h"
#include "test_support.h"

namespace veza {
namespace {

class UserRepoContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    test_db_ = std::make_unique<test::TestDatabase>(GetParam());
    ASSERT_TRUE(test_db_->ok());
    ASSERT_OK(ApplyMigrations(test_db_->db(), EmbeddedMigrations(test_db_->db().Dialect())));
    repo_ = std::make_unique<UserRepository>(test_db_->db());
  }

  User MakeUser(const std::string& username, const std::string& email) {
    auto u = repo_->Create({username, email, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", username}, 1000);
    EXPECT_OK(u);
    return u.ok() ? u.value() : User{};
  }

  std::unique_ptr<test::TestDatabase> test_db_;
  std::unique_ptr<UserRepository> repo_;
};

TEST_P(UserRepoContractTest, CreatesAndFindsByIdUsernameEmailAndLogin) {
  User alice = MakeUser("Alice", "Alice@Example.com");
  EXPECT_EQ(alice.id.size(), 36u);
  EXPECT_EQ(alice.role, Role::kUser);
  EXPECT_FALSE(alice.suspended);
  EXPECT_FALSE(alice.email_verified);

  for (auto found : {repo_->FindById(alice.id), repo_->FindByUsername("alice"), repo_->FindByUsername("ALICE"),
                     repo_->FindByEmail("alice@example.com"), repo_->FindByLogin("alice"),
                     repo_->FindByLogin("ALICE@example.COM")}) {
    ASSERT_OK(found);
    EXPECT_EQ(found->id, alice.id);
    EXPECT_EQ(found->username, "Alice");  // spelling kept for display
    EXPECT_EQ(found->email, "Alice@Example.com");
    EXPECT_EQ(found->password_hash.value_or(""), "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
    EXPECT_EQ(found->created_at_ms, 1000);
  }
  EXPECT_EQ(repo_->FindByUsername("bob").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(repo_->FindById("not-a-uuid").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(repo_->FindById("0192f3a4-5b6c-7d8e-9f00-112233445566").error().code, ErrorCode::kNotFound);
}

TEST_P(UserRepoContractTest, DuplicateUsernameOrEmailIsAConflictNamingTheField) {
  MakeUser("carol", "carol@example.com");
  auto same_name = repo_->Create({"CAROL", "other@example.com", std::nullopt, ""}, 1);
  ASSERT_FALSE(same_name.ok());
  EXPECT_EQ(same_name.error().code, ErrorCode::kConflict);
  EXPECT_NE(same_name.error().message.find("username"), std::string::npos);
  auto same_email = repo_->Create({"carol2", "CAROL@example.com", std::nullopt, ""}, 1);
  ASSERT_FALSE(same_email.ok());
  EXPECT_EQ(same_email.error().code, ErrorCode::kConflict);
  EXPECT_NE(same_email.error().message.find("email"), std::string::npos);
}

TEST_P(UserRepoContractTest, ConcurrentRegistrationsOfOneNameYieldOneAccount) {
  std::atomic<int> created{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = repo_->Create({"dave", "dave" + std::to_string(i) + "@example.com", std::nullopt, ""}, 1);
      if (r.ok()) created++;
      else if (r.error().code == ErrorCode::kConflict) conflicts++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(conflicts.load(), 7);
}

TEST_P(UserRepoContractTest, UpdatesProfilePasswordEmailRoleAndSuspension) {
  User erin = MakeUser("erin", "erin@example.com");
  ASSERT_OK(repo_->UpdateProfile(erin.id, {std::string("Erin E."), std::nullopt}, 2000));
  ASSERT_OK(repo_->UpdateProfile(erin.id, {std::nullopt, std::string("Makes beats ♫")}, 2001));
  ASSERT_OK(repo_->SetEmailVerified(erin.id, true, 2002));
  ASSERT_OK(repo_->SetPasswordHash(erin.id, "$argon2id$new", 2003));
  ASSERT_OK(repo_->SetRole(erin.id, Role::kModerator, 2004));
  ASSERT_OK(repo_->SetSuspended(erin.id, true, 2005));
  auto e = repo_->FindById(erin.id);
  ASSERT_OK(e);
  EXPECT_EQ(e->display_name, "Erin E.");
  EXPECT_EQ(e->bio, "Makes beats ♫");
  EXPECT_TRUE(e->email_verified);
  EXPECT_EQ(e->password_hash.value_or(""), "$argon2id$new");
  EXPECT_EQ(e->role, Role::kModerator);
  EXPECT_TRUE(e->suspended);
  EXPECT_EQ(e->updated_at_ms, 2005);

  // A new email must be verified again, and is unique too.
  ASSERT_OK(repo_->SetEmail(erin.id, "erin@new.example", 3000));
  EXPECT_FALSE(repo_->FindById(erin.id)->email_verified);
  EXPECT_EQ(repo_->FindByEmail("ERIN@new.example")->id, erin.id);
  User frank = MakeUser("frank", "frank@example.com");
  EXPECT_EQ(repo_->SetEmail(frank.id, "Erin@New.Example", 3001).error().code, ErrorCode::kConflict);

  EXPECT_EQ(repo_->SetRole("0192f3a4-5b6c-7d8e-9f00-112233445566", Role::kAdmin, 1).error().code, ErrorCode::kNotFound);
}

TEST_P(UserRepoContractTest, OauthOnlyAccountsHaveNoPasswordHash) {
  auto u = repo_->Create({"gina", "gina@example.com", std::nullopt, "Gina"}, 1);
  ASSERT_OK(u);
  EXPECT_FALSE(repo_->FindById(u->id)->password_hash.has_value());
}

TEST_P(UserRepoContractTest, DeleteRemovesTheAccountAndItsSessions) {
  User hank = MakeUser("hank", "hank@example.com");
  ASSERT_OK(test_db_->db().Query(
      "INSERT INTO sessions (id, user_id, created_at, last_used_at) VALUES ($1, $2, 1, 1)",
      {SqlValue{std::string("0192f3a4-5b6c-7d8e-9f00-000000000001")}, SqlValue{hank.id}}));
  ASSERT_OK(repo_->Delete(hank.id));
  EXPECT_EQ(repo_->FindById(hank.id).error().code, ErrorCode::kNotFound);
  auto left = test_db_->db().Query("SELECT COUNT(*) FROM sessions");
  ASSERT_OK(left);
  EXPECT_EQ(left->rows[0].Int(0), 0);
  EXPECT_EQ(repo_->Delete(hank.id).error().code, ErrorCode::kNotFound);
}

TEST_P(UserRepoContractTest, RoleIsCheckedByTheSchema) {
  User ivy = MakeUser("ivy", "ivy@example.com");
  auto bad = test_db_->db().Query("UPDATE users SET role = 'overlord' WHERE id = $1", {SqlValue{ivy.id}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, UserRepoContractTest, testing::Values("sqlite", "postgres"),
                         [](const testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace veza
