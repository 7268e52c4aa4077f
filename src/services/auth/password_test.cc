#include "services/auth/password.h"

#include <argon2.h>
#include <gmock/gmock.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include "services/auth/common_passwords.h"
#include "test_support.h"

namespace veza::auth {
namespace {

// A fixed, valid hash of "correct-horse" for the parsing tests, made once (hashing is slow).
const std::string& SampleHash() {
  static const std::string hash = [] {
    Result<std::string> h = HashPassword("correct-horse", PasswordParams{});
    EXPECT_OK(h);
    return h.ok() ? *h : std::string();
  }();
  return hash;
}

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  std::size_t pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

// --- argon2 itself ----------------------------------------------------------------------------

// RFC 9106 section 5.3: the Argon2id test vector, through libargon2's low-level API with the
// secret and associated data that the high-level calls cannot pass. Proves that the library we
// link is a conforming argon2id (version 0x13).
TEST(PasswordTest, Rfc9106Argon2idKnownAnswer) {
  std::array<std::uint8_t, 32> password;
  password.fill(0x01);
  std::array<std::uint8_t, 16> salt;
  salt.fill(0x02);
  std::array<std::uint8_t, 8> secret;
  secret.fill(0x03);
  std::array<std::uint8_t, 12> ad;
  ad.fill(0x04);
  std::array<std::uint8_t, 32> tag{};

  argon2_context ctx{};
  ctx.out = tag.data();
  ctx.outlen = tag.size();
  ctx.pwd = password.data();
  ctx.pwdlen = password.size();
  ctx.salt = salt.data();
  ctx.saltlen = salt.size();
  ctx.secret = secret.data();
  ctx.secretlen = secret.size();
  ctx.ad = ad.data();
  ctx.adlen = ad.size();
  ctx.t_cost = 3;
  ctx.m_cost = 32;
  ctx.lanes = 4;
  ctx.threads = 4;
  ctx.version = ARGON2_VERSION_13;
  ctx.flags = ARGON2_DEFAULT_FLAGS;
  ASSERT_EQ(argon2_ctx(&ctx, Argon2_id), ARGON2_OK);

  const std::array<std::uint8_t, 32> expected = {0x0d, 0x64, 0x0d, 0xf5, 0x8d, 0x78, 0x76, 0x6c,
                                                 0x08, 0xc0, 0x37, 0xa3, 0x4a, 0x8b, 0x53, 0xc9,
                                                 0xd0, 0x1e, 0xf0, 0x45, 0x2d, 0x75, 0xb6, 0x5e,
                                                 0xb5, 0x25, 0x20, 0xe9, 0x6b, 0x01, 0xe6, 0x59};
  EXPECT_EQ(tag, expected);
}

// --- HashPassword / VerifyPassword -------------------------------------------------------------

TEST(PasswordTest, RoundTrip) {
  Result<std::string> hash = HashPassword("Tr0mbone-Quasar-Lake");
  ASSERT_OK(hash);
  Result<bool> ok = VerifyPassword("Tr0mbone-Quasar-Lake", *hash);
  ASSERT_OK(ok);
  EXPECT_TRUE(*ok);
}

TEST(PasswordTest, WrongPasswordIsFalseNotError) {
  Result<bool> r = VerifyPassword("correct-horsf", SampleHash());
  ASSERT_OK(r);
  EXPECT_FALSE(*r);
  r = VerifyPassword("", SampleHash());
  ASSERT_OK(r);
  EXPECT_FALSE(*r);
  r = VerifyPassword("correct-horse ", SampleHash());  // no trimming, no truncation
  ASSERT_OK(r);
  EXPECT_FALSE(*r);
}

TEST(PasswordTest, PhcFormat) {
  // 16-byte salt = 22 base64 characters, 32-byte tag = 43, both unpadded.
  static const std::regex kPhc(
      R"(^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$)");
  EXPECT_TRUE(std::regex_match(SampleHash(), kPhc)) << SampleHash();

  Result<std::string> custom =
      HashPassword("x", PasswordParams{.memory_kib = 8192, .iterations = 1, .parallelism = 2});
  ASSERT_OK(custom);
  EXPECT_EQ(custom->rfind("$argon2id$v=19$m=8192,t=1,p=2$", 0), 0u) << *custom;
}

TEST(PasswordTest, SaltIsFreshEveryTime) {
  Result<std::string> a = HashPassword("same password here");
  Result<std::string> b = HashPassword("same password here");
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_NE(*a, *b);
  auto salt = [](const std::string& phc) {
    std::size_t end = phc.rfind('$');
    std::size_t start = phc.rfind('$', end - 1) + 1;
    return phc.substr(start, end - start);
  };
  EXPECT_NE(salt(*a), salt(*b));
  // Both still verify.
  Result<bool> va = VerifyPassword("same password here", *a);
  Result<bool> vb = VerifyPassword("same password here", *b);
  ASSERT_OK(va);
  ASSERT_OK(vb);
  EXPECT_TRUE(*va);
  EXPECT_TRUE(*vb);
}

TEST(PasswordTest, EmptyAndBinaryPasswordsHash) {
  Result<std::string> empty = HashPassword("");
  ASSERT_OK(empty);
  Result<bool> v = VerifyPassword("", *empty);
  ASSERT_OK(v);
  EXPECT_TRUE(*v);
  // An embedded NUL is part of the password, not its end.
  std::string with_nul("abc\0def", 7);
  Result<std::string> h = HashPassword(with_nul);
  ASSERT_OK(h);
  v = VerifyPassword("abc", *h);
  ASSERT_OK(v);
  EXPECT_FALSE(*v);
  v = VerifyPassword(with_nul, *h);
  ASSERT_OK(v);
  EXPECT_TRUE(*v);
}

TEST(PasswordTest, OverlongPasswords) {
  std::string long_pw(kMaxPasswordBytes + 1, 'a');
  Result<std::string> h = HashPassword(long_pw);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code, ErrorCode::kInvalidArgument);
  Result<bool> v = VerifyPassword(long_pw, SampleHash());
  ASSERT_OK(v);
  EXPECT_FALSE(*v);
}

TEST(PasswordTest, HashRefusesParamsOutsideCeilings) {
  for (PasswordParams p :
       {PasswordParams{.memory_kib = kMaxPasswordMemoryKib + 1}, PasswordParams{.iterations = 0},
        PasswordParams{.iterations = 11}, PasswordParams{.parallelism = 0},
        PasswordParams{.parallelism = 17}, PasswordParams{.memory_kib = 7}}) {
    Result<std::string> h = HashPassword("whatever", p);
    ASSERT_FALSE(h.ok()) << p.memory_kib << " " << p.iterations << " " << p.parallelism;
    EXPECT_EQ(h.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(PasswordTest, ValidatePasswordParams) {
  EXPECT_OK(ValidatePasswordParams(PasswordParams{}));
  EXPECT_OK(ValidatePasswordParams(
      PasswordParams{.memory_kib = 65536, .iterations = 3, .parallelism = 4}));
  EXPECT_FALSE(ValidatePasswordParams(PasswordParams{.memory_kib = 19455}).ok());
  EXPECT_FALSE(ValidatePasswordParams(PasswordParams{.iterations = 1}).ok());
  EXPECT_FALSE(ValidatePasswordParams(PasswordParams{.iterations = 11}).ok());
  EXPECT_FALSE(ValidatePasswordParams(PasswordParams{.memory_kib = 2u << 20}).ok());
}

// --- malformed and tampered hashes -----------------------------------------------------------

void ExpectMalformed(const std::string& phc) {
  auto start = std::chrono::steady_clock::now();
  Result<bool> r = VerifyPassword("correct-horse", phc);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok()) << "accepted: " << phc;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << phc;
  // Refused before any hashing: a tampered hash must not cost us a second of CPU or a GiB.
  EXPECT_LT(elapsed, std::chrono::milliseconds(200)) << phc;
  EXPECT_TRUE(NeedsRehash(phc, PasswordParams{})) << phc;
}

TEST(PasswordTest, MalformedHashesAreInvalidArgument) {
  const std::string& good = SampleHash();
  ASSERT_FALSE(good.empty());
  std::size_t last = good.rfind('$');
  std::vector<std::string> bad = {
      "",
      "garbage",
      "$",
      "$$$$$",
      good.substr(0, 10),                // truncated in the header
      good.substr(0, good.find(",t=")),  // truncated in the parameters
      good.substr(0, last),              // no tag
      good.substr(0, last + 1),          // empty tag
      good + "$",                        // extra field
      good + "$AAAA",
      Replace(good, "$argon2id$", "$argon2i$"),  // other argon2 variants
      Replace(good, "$argon2id$", "$argon2d$"),
      Replace(good, "$argon2id$", "$ARGON2ID$"),
      Replace(good, "$argon2id$", "$scrypt$"),
      "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  // bcrypt
      Replace(good, "$v=19$", "$v=16$"),                               // argon2 1.0
      Replace(good, "$v=19$", "$"),                                    // no version field
      Replace(good, "m=19456", "m=4194304"),      // 4 GiB: refused, not allocated
      Replace(good, "m=19456", "m=1048577"),      // just over 1 GiB
      Replace(good, "m=19456", "m=99999999999"),  // overflows 32 bits
      Replace(good, "m=19456", "m=-1"),
      Replace(good, "m=19456", "m=019456"),  // leading zero
      Replace(good, "m=19456", "m=0"),
      Replace(good, "m=19456", "m=7"),  // below 8 * p
      Replace(good, "m=19456", "m="),
      Replace(good, "t=2", "t=11"),  // too many passes
      Replace(good, "t=2", "t=1000000"),
      Replace(good, "t=2", "t=0"),
      Replace(good, "p=1", "p=255"),  // too many lanes
      Replace(good, "p=1", "p=0"),
      Replace(good, "m=19456,t=2,p=1", "t=2,m=19456,p=1"),  // wrong order
      Replace(good, "m=19456,t=2,p=1", "m=19456,t=2"),
      Replace(good, "p=1", "p=1,keyid=abc"),
      Replace(good, "p=1", "p=1 "),
      good.substr(0, last + 1) + "!!!!" + good.substr(last + 5),  // non-base64 tag
      good + "=",                                                 // padding is not PHC
      good.substr(0, last + 1) + "AAAAAAAAAAAAAAAAAAAA",          // 15-byte tag: too short
      good.substr(0, last + 1) + std::string(100, 'A'),           // 75-byte tag: too long
      std::string(10000, '$'),
  };
  for (const std::string& phc : bad) ExpectMalformed(phc);
}

TEST(PasswordTest, TamperedHashNeverVerifies) {
  std::string good = SampleHash();
  std::size_t last = good.rfind('$');
  // Flip one character of the tag, of the salt, lower the cost: the right password no longer
  // matches (argon2 recomputes with what the string says), and it is not an error either.
  std::string tag_flipped = good;
  tag_flipped[last + 1] = tag_flipped[last + 1] == 'A' ? 'B' : 'A';
  std::string salt_flipped = good;
  std::size_t salt_start = good.rfind('$', last - 1) + 1;
  salt_flipped[salt_start] = salt_flipped[salt_start] == 'A' ? 'B' : 'A';
  std::string cheaper = Replace(good, "t=2", "t=1");
  std::string shorter_tag = good.substr(0, good.size() - 11);  // 32 base64 chars: 24 bytes
  for (const std::string& phc : {tag_flipped, salt_flipped, cheaper, shorter_tag}) {
    Result<bool> r = VerifyPassword("correct-horse", phc);
    EXPECT_TRUE(!r.ok() || !*r) << phc;
  }
}

// --- NeedsRehash ------------------------------------------------------------------------------

TEST(PasswordTest, NeedsRehash) {
  const std::string& good = SampleHash();  // m=19456,t=2,p=1, 16-byte salt, 32-byte tag
  const PasswordParams current;
  EXPECT_FALSE(NeedsRehash(good, current));  // equal

  // Stored lower than current: upgrade.
  EXPECT_TRUE(NeedsRehash(good, PasswordParams{.memory_kib = 65536}));
  EXPECT_TRUE(NeedsRehash(good, PasswordParams{.iterations = 3}));
  EXPECT_TRUE(NeedsRehash(good, PasswordParams{.parallelism = 2}));
  EXPECT_TRUE(NeedsRehash(Replace(good, "m=19456", "m=8192"), current));
  EXPECT_TRUE(NeedsRehash(Replace(good, "t=2", "t=1"), current));

  // Stored higher than current: keep it, never downgrade.
  EXPECT_FALSE(NeedsRehash(Replace(good, "m=19456,t=2,p=1", "m=65536,t=3,p=2"), current));
  EXPECT_FALSE(NeedsRehash(good, PasswordParams{.memory_kib = 8192, .iterations = 1}));
  // Higher memory but fewer passes: still weaker in one respect, so rehash.
  EXPECT_TRUE(NeedsRehash(Replace(good, "m=19456,t=2", "m=65536,t=1"), current));

  // A shorter tag than we now write.
  EXPECT_TRUE(NeedsRehash(good.substr(0, good.size() - 11), current));
  // Unreadable or foreign.
  EXPECT_TRUE(NeedsRehash("", current));
  EXPECT_TRUE(NeedsRehash(Replace(good, "$argon2id$", "$argon2i$"), current));
}

// --- CheckPasswordPolicy ----------------------------------------------------------------------

// The rule that failed, by a word of its message; "" when the password passes.
std::string PolicyFailure(std::string_view password, std::string_view username = "someone",
                          std::string_view email = "someone@example.com") {
  Status s = CheckPasswordPolicy(password, username, email);
  if (s.ok()) return "";
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  // Never echo the password back (it would end up in logs and responses).
  if (password.size() >= 4) {
    EXPECT_EQ(s.error().message.find(password), std::string::npos) << s.error().message;
  }
  return s.error().message;
}

MATCHER_P(Mentions, word, "") { return arg.find(word) != std::string::npos; }

TEST(PasswordPolicyTest, AcceptsReasonablePasswords) {
  for (std::string_view pw :
       {"Tr0mbone-Quasar-Lake", "violet canyon 47 drums", "xK9#mQ2$vL7p", "my cat eats 3 bananas",
        "Sch\xC3\xB6ne Gr\xC3\xBC\xC3\x9F\x65 aus Wien",
        "\xE9\x9F\xB3\xE6\xA5\xBD\xE3\x81\xAF\xE4\xB8\x96\xE7\x95\x8C\xE3\x81"
        "\xAE\xE8\xA8\x80\xE8\x91\x89\xE3\x81\xA0\xE3\x82\x88\xE3\x81\xAD!"}) {
    EXPECT_EQ(PolicyFailure(pw), "") << pw;
  }
}

TEST(PasswordPolicyTest, LengthBoundsInCodePoints) {
  EXPECT_THAT(PolicyFailure("xK9#mQ2$vL7"), Mentions("at least 12"));  // 11
  EXPECT_EQ(PolicyFailure("xK9#mQ2$vL7p"), "");                        // 12
  EXPECT_THAT(PolicyFailure(""), Mentions("at least 12"));

  // 128 and 129 characters of a non-repeating pattern.
  std::string pw;
  std::uint32_t x = 12345;
  const std::string_view alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_";
  while (pw.size() < 129) {
    x = x * 1103515245u + 12345u;
    pw.push_back(alphabet[(x >> 16) % alphabet.size()]);
  }
  EXPECT_EQ(PolicyFailure(std::string_view(pw).substr(0, 128)), "");
  EXPECT_THAT(PolicyFailure(pw), Mentions("at most 128"));
  EXPECT_THAT(PolicyFailure(std::string(100000, 'x')), Mentions("at most 128"));
}

TEST(PasswordPolicyTest, MultibyteCharactersCountOnce) {
  // 12 distinct two-byte characters (24 bytes) pass; 11 (22 bytes, more than 12 bytes) do not.
  const std::string twelve =
      "\xC3\x85\xC3\x9F\xC3\x87\xC4\x91\xC3\xA9\xC6\x92\xC4\x9D\xC4\xA5\xC3\xAF\xC4\xB5\xC4\xB7"
      "\xC5\x82";  // ÅßÇđéƒĝĥïĵķł
  ASSERT_EQ(twelve.size(), 24u);
  EXPECT_EQ(PolicyFailure(twelve), "");
  EXPECT_THAT(PolicyFailure(twelve.substr(0, 22)), Mentions("at least 12"));

  // 128 four-byte characters (512 bytes) pass, 129 do not.
  std::string emoji;
  for (int i = 0; i < 129; ++i) {
    char32_t cp = 0x1F300 + static_cast<char32_t>((i * 37) % 251);
    emoji.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    emoji.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    emoji.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    emoji.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  EXPECT_EQ(PolicyFailure(std::string_view(emoji).substr(0, 512)), "");
  EXPECT_THAT(PolicyFailure(emoji), Mentions("at most 128"));
}

TEST(PasswordPolicyTest, RejectsInvalidUtf8) {
  for (std::string_view pw : {
           std::string_view("valid start \xC3\x28 then"),  // bad continuation
           std::string_view("overlong slash \xC0\xAF here"),
           std::string_view("overlong three \xE0\x80\xAF here"),
           std::string_view("surrogate \xED\xA0\x80 in here"),
           std::string_view("beyond unicode \xF4\x90\x80\x80 max"),
           std::string_view("lone continuation \x80 byte"),
           std::string_view("truncated at the end \xE2\x82"),
           std::string_view("\xFF\xFE not utf-8 at all"),
       }) {
    EXPECT_THAT(PolicyFailure(pw), Mentions("UTF-8")) << pw;
  }
}

TEST(PasswordPolicyTest, RejectsControlCharacters) {
  EXPECT_THAT(PolicyFailure(std::string("has a nul\0 in the middle", 24)), Mentions("control"));
  EXPECT_THAT(PolicyFailure("tab\tseparated words"), Mentions("control"));
  EXPECT_THAT(PolicyFailure("c1 control \xC2\x85 char"), Mentions("control"));
}

TEST(PasswordPolicyTest, RejectsUsernameInAnyCase) {
  EXPECT_THAT(PolicyFailure("xx-MUSICLOVER-2024!", "MusicLover"), Mentions("username"));
  EXPECT_THAT(PolicyFailure("best musiclover ever", "MUSICLOVER"), Mentions("username"));
  EXPECT_THAT(PolicyFailure("jam-with-zoe-tonight", "zoe"), Mentions("username"));
  // Usernames under 3 characters would forbid too much; not checked.
  EXPECT_EQ(PolicyFailure("violet canyon 47 drums", "dr"), "");
  EXPECT_EQ(PolicyFailure("violet canyon 47 drums", ""), "");
}

TEST(PasswordPolicyTest, RejectsEmailLocalPart) {
  EXPECT_THAT(PolicyFailure("JANE.DOE+VEZA-rocks-42", "jd", "jane.doe+veza@example.com"),
              Mentions("email"));
  EXPECT_THAT(PolicyFailure("I am Jane.Doe, hello", "jd", "jane.doe+veza@example.com"),
              Mentions("email"));
  EXPECT_EQ(PolicyFailure("violet canyon 47 drums", "jd", "jd@example.com"), "");
  EXPECT_EQ(PolicyFailure("example-violet-canyon", "jd", "jd@example.com"), "");  // domain is fine
}

TEST(PasswordPolicyTest, RejectsCommonPasswords) {
  // Exactly listed (after lower-casing).
  EXPECT_THAT(PolicyFailure("WinnieThePooh"), Mentions("common"));
  EXPECT_THAT(PolicyFailure("password1234"), Mentions("common"));
  EXPECT_THAT(PolicyFailure("qwertyuiop12"), Mentions("keyboard"));  // caught as a walk first
  EXPECT_THAT(PolicyFailure("correct horse battery staple"), Mentions("common"));
  // A listed word with digits or symbols around it, or in l33t.
  for (std::string_view pw :
       {"Password2024!", "P@ssw0rd2024!", "Monkey2024!!!", "!!dragon99!!!", "iloveyou12345",
        "4dm1n1str4t0r", "Sunshine.1987", "123football456", "Veza12345678!"}) {
    EXPECT_THAT(PolicyFailure(pw), Mentions("common")) << pw;
  }
  // A listed word repeated.
  EXPECT_THAT(PolicyFailure("monkeymonkey"), Mentions("common password repeated"));
  EXPECT_THAT(PolicyFailure("Dragon1Dragon1"), Mentions("repeated"));
}

TEST(PasswordPolicyTest, RejectsTrivialStructures) {
  EXPECT_THAT(PolicyFailure("aaaaaaaaaaaa"), Mentions("single repeated character"));
  EXPECT_THAT(
      PolicyFailure("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                    "\xC3\xA9\xC3\xA9\xC3\xA9"),
      Mentions("single repeated character"));
  EXPECT_THAT(PolicyFailure("abcabcabcabc"), Mentions("repeated pattern"));
  EXPECT_THAT(PolicyFailure("12121212121212"), Mentions("repeated pattern"));
  EXPECT_THAT(PolicyFailure("abcdefghijkl"), Mentions("sequence"));
  EXPECT_THAT(PolicyFailure("ZYXWVUTSRQPO"), Mentions("sequence"));
  EXPECT_THAT(PolicyFailure("123456789012"), Mentions("sequence"));  // wraps past 9
  EXPECT_THAT(PolicyFailure("987654321098"), Mentions("sequence"));
  EXPECT_THAT(PolicyFailure("135791357913"), Mentions("sequence"));   // step 2
  EXPECT_THAT(PolicyFailure("123456789012!"), Mentions("sequence"));  // symbol padding
  EXPECT_THAT(PolicyFailure("abcdefghijk1"), Mentions("sequence"));   // digit padding
  EXPECT_THAT(PolicyFailure("1qaz2wsx3edc"), Mentions("keyboard"));
  EXPECT_THAT(PolicyFailure("QWERTYUIOPASDF"), Mentions("keyboard"));
  EXPECT_THAT(PolicyFailure("lkjhgfdsapoiu"), Mentions("keyboard"));  // backwards
  EXPECT_THAT(PolicyFailure("zaq1xsw2cde3"), Mentions("keyboard"));
}

TEST(PasswordPolicyTest, CommonListIsSortedAndLargeEnough) {
  std::span<const std::string_view> list = CommonPasswords();
  EXPECT_GE(list.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(list.begin(), list.end()));
  EXPECT_EQ(std::adjacent_find(list.begin(), list.end()), list.end()) << "duplicates";
  for (std::string_view w : list) {
    EXPECT_FALSE(w.empty());
    EXPECT_TRUE(std::none_of(w.begin(), w.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) << w;
  }
  EXPECT_TRUE(IsCommonPassword("password"));
  EXPECT_TRUE(IsCommonPassword("123456"));
  EXPECT_TRUE(IsCommonPassword("qwertyuiop12"));
  EXPECT_FALSE(IsCommonPassword("tr0mbone-quasar-lake"));
}

}  // namespace
}  // namespace veza::auth
