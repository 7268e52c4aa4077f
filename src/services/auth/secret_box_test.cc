#include "services/auth/secret_box.h"

#include <gtest/gtest.h>

namespace veza::auth {
namespace {

TEST(SecretBox, SealsAndOpensBoundToItsRow) {
  auto box = SecretBox::Create(SecretBox::NewKey());
  ASSERT_TRUE(box.ok());
  std::string sealed = box->Seal("JBSWY3DPEHPK3PXP", "user-1");
  EXPECT_EQ(sealed.rfind("v1." + box->key_id() + ".", 0), 0u) << sealed;
  EXPECT_EQ(sealed.find("JBSWY3DPEHPK3PXP"), std::string::npos);
  EXPECT_NE(box->Seal("JBSWY3DPEHPK3PXP", "user-1"), sealed) << "nonces must differ";
  auto opened = box->Open(sealed, "user-1");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "JBSWY3DPEHPK3PXP");
  EXPECT_FALSE(box->Open(sealed, "user-2").ok()) << "a secret copied to another row must not open";
  EXPECT_FALSE(box->NeedsReseal(sealed));
}

TEST(SecretBox, TamperedOrUnknownKeyTextDoesNotOpen) {
  auto box = SecretBox::Create(SecretBox::NewKey());
  auto other = SecretBox::Create(SecretBox::NewKey());
  std::string sealed = box->Seal("secret", "u");
  std::string flipped = sealed;
  flipped[flipped.size() - 3] = flipped[flipped.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(box->Open(flipped, "u").ok());
  EXPECT_FALSE(other->Open(sealed, "u").ok());
  EXPECT_FALSE(box->Open("v1.nodot", "u").ok());
  EXPECT_FALSE(box->Open("v1." + box->key_id() + ".!!!", "u").ok());
  EXPECT_FALSE(box->Open("v1." + box->key_id() + ".AAAA", "u").ok());
}

TEST(SecretBox, RotationOpensOldTextAndAsksForResealing) {
  std::string old_key = SecretBox::NewKey();
  auto old_box = SecretBox::Create(old_key);
  std::string sealed = old_box->Seal("secret", "u");
  auto rotated = SecretBox::Create(SecretBox::NewKey(), {old_key});
  ASSERT_TRUE(rotated.ok());
  EXPECT_TRUE(rotated->NeedsReseal(sealed));
  EXPECT_EQ(rotated->Open(sealed, "u").value(), "secret");
  EXPECT_FALSE(rotated->NeedsReseal(rotated->Seal("secret", "u")));
}

TEST(SecretBox, ClearTextFromOlderVersionsOpensAsItselfAndNeedsResealing) {
  auto box = SecretBox::Create(SecretBox::NewKey());
  EXPECT_TRUE(box->NeedsReseal("JBSWY3DPEHPK3PXP"));
  EXPECT_EQ(box->Open("JBSWY3DPEHPK3PXP", "u").value(), "JBSWY3DPEHPK3PXP");
}

TEST(SecretBox, KeysMustBe32Bytes) {
  EXPECT_FALSE(SecretBox::Create("short").ok());
  EXPECT_FALSE(SecretBox::Create(SecretBox::NewKey(), {"short"}).ok());
}

}  // namespace
}  // namespace veza::auth
