#include "services/auth/totp.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "test_support.h"

namespace veza::auth {
namespace {

// RFC 6238 Appendix B seeds: the ASCII digits repeated to the hash's output size.
const std::string kSeed20 = "12345678901234567890";
const std::string kSeed32 = "12345678901234567890123456789012";
const std::string kSeed64 = "1234567890123456789012345678901234567890123456789012345678901234";

// --- base32 (RFC 4648 section 10) -----------------------------------------------------------

struct Base32Vector {
  std::string_view plain, padded, unpadded;
};
constexpr Base32Vector kBase32Vectors[] = {
    {"", "", ""},
    {"f", "MY======", "MY"},
    {"fo", "MZXQ====", "MZXQ"},
    {"foo", "MZXW6===", "MZXW6"},
    {"foob", "MZXW6YQ=", "MZXW6YQ"},
    {"fooba", "MZXW6YTB", "MZXW6YTB"},
    {"foobar", "MZXW6YTBOI======", "MZXW6YTBOI"},
};

TEST(Base32Test, Rfc4648Vectors) {
  for (const auto& v : kBase32Vectors) {
    EXPECT_EQ(Base32Encode(v.plain), v.unpadded) << v.plain;
    Result<std::string> d = Base32Decode(v.unpadded);
    ASSERT_OK(d);
    EXPECT_EQ(*d, v.plain);
    d = Base32Decode(v.padded);  // the RFC's padded form is tolerated
    ASSERT_OK(d);
    EXPECT_EQ(*d, v.plain);
  }
  EXPECT_EQ(Base32Encode(kSeed20), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

TEST(Base32Test, DecodeIsCaseInsensitive) {
  Result<std::string> d = Base32Decode("mzxw6ytboi");
  ASSERT_OK(d);
  EXPECT_EQ(*d, "foobar");
  d = Base32Decode("MzXw6YtBoI");
  ASSERT_OK(d);
  EXPECT_EQ(*d, "foobar");
}

TEST(Base32Test, RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    Result<std::string> d = Base32Decode(Base32Encode(bytes));
    ASSERT_OK(d);
    EXPECT_EQ(*d, bytes);
    bytes.push_back(static_cast<char>(n * 73 + 11));
  }
}

TEST(Base32Test, RejectsMalformedInput) {
  for (std::string_view bad : {
           "MZXW1",     // '1' is not in the alphabet
           "MZXW0",     // nor '0', '8', '9'
           "MZ XW6",    // no spaces
           "MZXW6-YQ",  // no separators
           "M",         // 1, 3 or 6 characters cannot end a group
           "MZX",
           "MZXW6Y",
           "MZ",    // 'Z' leaves non-zero trailing bits (canonical form is "MY")
           "MZXR",  // same in the 4-character case
           "MY=",   // padding that does not fill 8 characters
           "MY=====",
           "MZXW6=",
           "MZXW6YTB========",  // a whole group of padding
           "=MY=====",
           "MZXW6YQ==",
       }) {
    Result<std::string> d = Base32Decode(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

// --- HOTP (RFC 4226 Appendix D) ---------------------------------------------------------------

TEST(TotpTest, Rfc4226HotpVectors) {
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (std::uint64_t counter = 0; counter < 10; ++counter) {
    EXPECT_EQ(HotpCode(kSeed20, counter), expected[counter]) << counter;
  }
}

// --- TOTP (RFC 6238 Appendix B) ---------------------------------------------------------------

TEST(TotpTest, Rfc6238Vectors) {
  struct Row {
    std::int64_t time;
    const char* sha1;
    const char* sha256;
    const char* sha512;
  };
  const Row rows[] = {
      {59, "94287082", "46119246", "90693936"},
      {1111111109, "07081804", "68084774", "25091201"},
      {1111111111, "14050471", "67062674", "99943326"},
      {1234567890, "89005924", "91819424", "93441116"},
      {2000000000, "69279037", "90698825", "38618901"},
      {20000000000, "65353130", "77737706", "47863826"},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(TotpCode(kSeed20, r.time, 8, 30, TotpHash::kSha1), r.sha1) << r.time;
    EXPECT_EQ(TotpCode(kSeed32, r.time, 8, 30, TotpHash::kSha256), r.sha256) << r.time;
    EXPECT_EQ(TotpCode(kSeed64, r.time, 8, 30, TotpHash::kSha512), r.sha512) << r.time;
    // And they verify, with the step reported.
    std::int64_t step = -1;
    EXPECT_TRUE(VerifyTotp(kSeed64, r.sha512, r.time, 0, &step, 8, 30, TotpHash::kSha512));
    EXPECT_EQ(step, r.time / 30);
  }
}

TEST(TotpTest, SixDigitDefaultIsTheLowDigits) {
  // 6 digits is the same truncated value modulo 10^6: the last 6 of the 8-digit vector.
  EXPECT_EQ(TotpCode(kSeed20, 59), "287082");
  EXPECT_EQ(TotpCode(kSeed20, 1111111109), "081804");
  EXPECT_EQ(TotpCode(kSeed20, 1111111109).size(), 6u);  // leading zero kept
}

TEST(TotpTest, BadArgumentsGiveNoCode) {
  EXPECT_EQ(TotpCode(kSeed20, -1), "");
  EXPECT_EQ(TotpCode(kSeed20, 59, 5), "");
  EXPECT_EQ(TotpCode(kSeed20, 59, 11), "");
  EXPECT_EQ(TotpCode(kSeed20, 59, 6, 0), "");
  EXPECT_EQ(TotpCode(kSeed20, 59, 10).size(), 10u);
}

TEST(TotpTest, WindowAcceptance) {
  const std::int64_t t = 1111111111;  // step 37037037, 1 s into it
  const std::int64_t step = t / 30;
  const std::string code = TotpCode(kSeed20, t);
  std::int64_t matched = -1;

  EXPECT_TRUE(VerifyTotp(kSeed20, code, t, 1, &matched));
  EXPECT_EQ(matched, step);
  // The server's clock one step ahead or behind the phone's.
  EXPECT_TRUE(VerifyTotp(kSeed20, code, t + 30, 1, &matched));
  EXPECT_EQ(matched, step);
  EXPECT_TRUE(VerifyTotp(kSeed20, code, t - 30, 1, &matched));
  EXPECT_EQ(matched, step);
  // The last second of the same step.
  EXPECT_TRUE(VerifyTotp(kSeed20, code, step * 30 + 29, 0, &matched));
}

TEST(TotpTest, WindowRejection) {
  const std::int64_t t = 1111111111;
  const std::string code = TotpCode(kSeed20, t);
  std::int64_t matched = 42;
  EXPECT_FALSE(VerifyTotp(kSeed20, code, t + 60, 1, &matched));
  EXPECT_FALSE(VerifyTotp(kSeed20, code, t - 60, 1, &matched));
  EXPECT_EQ(matched, 42);  // untouched on failure
  EXPECT_TRUE(VerifyTotp(kSeed20, code, t + 60, 2, &matched));
  EXPECT_FALSE(VerifyTotp(kSeed20, code, t + 30, 0));
  EXPECT_FALSE(VerifyTotp(kSeed20, code, t + 30, -5));  // negative means 0
  // The window is capped at 10 steps whatever the caller asks.
  EXPECT_TRUE(VerifyTotp(kSeed20, code, t + 300, 1000));
  EXPECT_FALSE(VerifyTotp(kSeed20, code, t + 330, 1000));
  // Another secret's code.
  EXPECT_FALSE(VerifyTotp(kSeed32, code, t, 1));
}

TEST(TotpTest, MalformedCodesAreRejected) {
  const std::int64_t t = 59;
  ASSERT_EQ(TotpCode(kSeed20, t), "287082");
  for (std::string_view bad :
       {"", "28708", "2870820", "28708a", "28708 ", " 87082", "287 82", "+87082", "-87082",
        "2870822", "\xEF\xBC\x92\x38\x37\x30\x38\x32" /* fullwidth 2 */, "287082\n"}) {
    EXPECT_FALSE(VerifyTotp(kSeed20, bad, t, 1)) << bad;
  }
  EXPECT_FALSE(VerifyTotp(kSeed20, std::string_view("287082\0", 7), t, 1));
  EXPECT_TRUE(VerifyTotp(kSeed20, "287082", t, 1));
}

TEST(TotpTest, ShortOrMissingSecretNeverVerifies) {
  // With an empty secret anybody could compute the codes: refuse rather than verify.
  const std::int64_t t = 1234567890;
  EXPECT_FALSE(VerifyTotp("", TotpCode("", t), t));
  EXPECT_FALSE(VerifyTotp("short secret", TotpCode("short secret", t), t));
  EXPECT_FALSE(VerifyTotp(kSeed20, TotpCode(kSeed20, t), -1));
}

TEST(TotpTest, NewSecretsAreRandom160Bits) {
  std::string a = NewTotpSecret();
  std::string b = NewTotpSecret();
  EXPECT_EQ(a.size(), 20u);
  EXPECT_EQ(b.size(), 20u);
  EXPECT_NE(a, b);
  EXPECT_EQ(Base32Encode(a).size(), 32u);  // no padding needed for 20 bytes
  EXPECT_TRUE(VerifyTotp(a, TotpCode(a, 1700000000), 1700000000));
}

// --- otpauth URI ------------------------------------------------------------------------------

TEST(TotpTest, OtpauthUri) {
  EXPECT_EQ(OtpauthUri("Veza", "alice", kSeed20),
            "otpauth://totp/Veza:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Veza"
            "&algorithm=SHA1&digits=6&period=30");
  // Spaces are %20 (not '+'), a colon inside the issuer or account is %3A so the label still
  // splits at the one literal colon, '@' '&' '?' '#' '=' cannot break out of their field.
  EXPECT_EQ(OtpauthUri("Veza Music: Dev", "alice smith@example.com", kSeed20),
            "otpauth://totp/Veza%20Music%3A%20Dev:alice%20smith%40example.com"
            "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Veza%20Music%3A%20Dev"
            "&algorithm=SHA1&digits=6&period=30");
  EXPECT_EQ(OtpauthUri("A&B=C", "x?y#z/w", "foobar"),
            "otpauth://totp/A%26B%3DC:x%3Fy%23z%2Fw?secret=MZXW6YTBOI&issuer=A%26B%3DC"
            "&algorithm=SHA1&digits=6&period=30");
  // UTF-8 is encoded byte by byte; unreserved punctuation stays.
  EXPECT_EQ(OtpauthUri("Veza", "j\xC3\xBCrgen.k_1~-", "foobar"),
            "otpauth://totp/Veza:j%C3%BCrgen.k_1~-?secret=MZXW6YTBOI&issuer=Veza"
            "&algorithm=SHA1&digits=6&period=30");
  // Without an issuer there is no prefix and no issuer parameter.
  EXPECT_EQ(OtpauthUri("", "alice", "foobar"),
            "otpauth://totp/alice?secret=MZXW6YTBOI&algorithm=SHA1&digits=6&period=30");
  EXPECT_EQ(OtpauthUri("Veza", "alice", "foobar", 8, 60, TotpHash::kSha256),
            "otpauth://totp/Veza:alice?secret=MZXW6YTBOI&issuer=Veza&algorithm=SHA256&digits=8"
            "&period=60");
}

// --- recovery codes ---------------------------------------------------------------------------

TEST(RecoveryCodeTest, FormatAndUniqueness) {
  static const std::regex kFormat(
      "^[23456789abcdefghijkmnpqrstuvwxyz]{4}-[23456789abcdefghijkmnpqrstuvwxyz]{4}-"
      "[23456789abcdefghijkmnpqrstuvwxyz]{4}$");
  std::vector<std::string> codes = NewRecoveryCodes();
  ASSERT_EQ(codes.size(), 10u);
  std::set<std::string> seen;
  for (const std::string& c : codes) {
    EXPECT_TRUE(std::regex_match(c, kFormat)) << c;
    seen.insert(c);
  }
  EXPECT_EQ(seen.size(), codes.size());
  // Over many codes every symbol of the alphabet shows up and nothing else does.
  std::set<char> symbols;
  for (const std::string& c : NewRecoveryCodes(100)) {
    for (char ch : c) {
      if (ch != '-') symbols.insert(ch);
    }
  }
  EXPECT_EQ(symbols.size(), 32u);  // 12 symbols * 5 bits = 60 bits per code
}

TEST(RecoveryCodeTest, CountIsClamped) {
  EXPECT_EQ(NewRecoveryCodes(0).size(), 0u);
  EXPECT_EQ(NewRecoveryCodes(-3).size(), 0u);
  EXPECT_EQ(NewRecoveryCodes(1).size(), 1u);
  EXPECT_EQ(NewRecoveryCodes(1000).size(), 100u);
}

TEST(RecoveryCodeTest, HashIsSha256OfNormalizedCode) {
  // SHA-256("abc"), FIPS 180-2 example.
  EXPECT_EQ(HashRecoveryCode("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashRecoveryCode("A-B C"), HashRecoveryCode("abc"));
  EXPECT_EQ(HashRecoveryCode("7KQ2-MX9D-HW4P"), HashRecoveryCode("7kq2mx9dhw4p"));
  EXPECT_EQ(HashRecoveryCode("7kq2 mx9d hw4p"), HashRecoveryCode("7kq2mx9dhw4p"));
  EXPECT_NE(HashRecoveryCode("7kq2mx9dhw4q"), HashRecoveryCode("7kq2mx9dhw4p"));
  EXPECT_EQ(HashRecoveryCode("x").size(), 64u);
}

TEST(RecoveryCodeTest, Matches) {
  for (const std::string& code : NewRecoveryCodes(3)) {
    std::string stored = HashRecoveryCode(code);
    EXPECT_TRUE(RecoveryCodeMatches(code, stored));
    std::string typed = code;
    for (char& c : typed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::replace(typed.begin(), typed.end(), '-', ' ');
    EXPECT_TRUE(RecoveryCodeMatches(typed, stored)) << typed;
    EXPECT_FALSE(RecoveryCodeMatches(code + "2", stored));
    EXPECT_FALSE(RecoveryCodeMatches("", stored));
    EXPECT_FALSE(RecoveryCodeMatches(code, stored.substr(0, 63)));
    EXPECT_FALSE(RecoveryCodeMatches(code, ""));
  }
}

TEST(RecoveryCodeTest, SaltedHashesDependOnTheSalt) {
  const std::string code = "7kq2-mx9d-hw4p";
  std::string for_alice = HashRecoveryCode(code, "user-alice");
  std::string for_bob = HashRecoveryCode(code, "user-bob");
  EXPECT_EQ(for_alice.size(), 64u);
  EXPECT_NE(for_alice, for_bob);
  EXPECT_NE(for_alice, HashRecoveryCode(code));
  EXPECT_TRUE(RecoveryCodeMatches("7KQ2 MX9D HW4P", for_alice, "user-alice"));
  EXPECT_FALSE(RecoveryCodeMatches(code, for_alice, "user-bob"));
  EXPECT_FALSE(RecoveryCodeMatches(code, for_alice));
}

}  // namespace
}  // namespace veza::auth
