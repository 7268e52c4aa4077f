#include "services/moderation/text_normalize.h"

#include <cstdint>

namespace veza::moderation {
namespace {

// U+00C0..U+00FF and U+0100..U+017F to their base letters; '.' keeps the code point as is.
constexpr std::string_view kLatin1 =
    "aaaaaaaceeeeiiii"   // C0..CF
    "dnooooo.ouuuuyts"   // D0..DF (D7 ×; DE Þ; DF ß)
    "aaaaaaaceeeeiiii"   // E0..EF
    "dnooooo.ouuuuyty";  // F0..FF (F7 ÷)
constexpr std::string_view kLatinExtendedA =
    "aaaaaaccccccccdd"   // 0100..010F
    "ddeeeeeeeeeegggg"   // 0110..011F
    "gggghhhhiiiiiiii"   // 0120..012F
    "iiiijjkkklllllll"   // 0130..013F
    "lllnnnnnnnnnoooo"   // 0140..014F (0149 ŉ → n)
    "oooorrrrrrssssss"   // 0150..015F
    "ssttttttuuuuuuuu"   // 0160..016F
    "uuuuwwyyyzzzzzzs";  // 0170..017F

char32_t FoldTable(char32_t c) {
  switch (c) {
    // Greek capitals and small letters that look like Latin ones.
    case 0x0391: case 0x03B1: return 'a';
    case 0x0392: case 0x03B2: return 'b';
    case 0x0395: case 0x03B5: return 'e';
    case 0x0396: return 'z';
    case 0x0397: return 'h';
    case 0x0399: case 0x03B9: return 'i';
    case 0x039A: case 0x03BA: return 'k';
    case 0x039C: return 'm';
    case 0x039D: case 0x03BD: return 'n';
    case 0x039F: case 0x03BF: return 'o';
    case 0x03A1: case 0x03C1: return 'p';
    case 0x03A4: case 0x03C4: return 't';
    case 0x03A5: case 0x03C5: return 'u';
    case 0x03A7: case 0x03C7: return 'x';
    // Cyrillic look-alikes.
    case 0x0410: case 0x0430: return 'a';
    case 0x0412: case 0x0432: return 'b';
    case 0x0415: case 0x0435: case 0x0401: case 0x0451: return 'e';
    case 0x041A: case 0x043A: return 'k';
    case 0x041C: case 0x043C: return 'm';
    case 0x041D: case 0x043D: return 'h';
    case 0x041E: case 0x043E: return 'o';
    case 0x0420: case 0x0440: return 'p';
    case 0x0421: case 0x0441: return 'c';
    case 0x0422: case 0x0442: return 't';
    case 0x0423: case 0x0443: return 'y';
    case 0x0425: case 0x0445: return 'x';
    case 0x0405: case 0x0455: return 's';
    case 0x0406: case 0x0456: case 0x0407: case 0x0457: return 'i';
    case 0x0408: case 0x0458: return 'j';
    case 0x0501: return 'd';
    case 0x017F: return 's';
    case 0x0131: return 'i';
    case 0x20AC: return 'e';  // €
    default: return c;
  }
}

}  // namespace

std::vector<CodePoint> DecodeUtf8(std::string_view text) {
  std::vector<CodePoint> out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    char32_t value = 0;
    bool valid = len != 0 && i + len <= text.size();
    if (valid) {
      value = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
      for (std::size_t k = 1; k < len; ++k) {
        auto cc = static_cast<unsigned char>(text[i + k]);
        if ((cc & 0xc0) != 0x80) {
          valid = false;
          break;
        }
        value = (value << 6) | (cc & 0x3f);
      }
    }
    if (!valid) {
      out.push_back({0xFFFD, i, i + 1});
      ++i;
      continue;
    }
    out.push_back({value, i, i + len});
    i += len;
  }
  return out;
}

void AppendUtf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  }
}

char32_t Fold(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c - 'A' + 'a';
  if (c < 0x80) return c;
  // Invisible: combining marks (what is left of a decomposed accent), zero-width characters,
  // soft hyphen, word joiner, byte-order mark, variation selectors.
  if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F) || c == 0x00AD || c == 0x2060 || c == 0xFEFF ||
      (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x20D0 && c <= 0x20FF)) {
    return 0;
  }
  if (c >= 0xFF01 && c <= 0xFF5E) return Fold(c - 0xFEE0);  // fullwidth ASCII
  if (c >= 0x00C0 && c <= 0x00FF) {
    char b = kLatin1[c - 0x00C0];
    return b == '.' ? c : static_cast<char32_t>(b);
  }
  if (c >= 0x0100 && c <= 0x017F) return static_cast<char32_t>(kLatinExtendedA[c - 0x0100]);
  if (c >= 0x24B6 && c <= 0x24CF) return 'a' + (c - 0x24B6);  // Ⓐ..Ⓩ
  if (c >= 0x24D0 && c <= 0x24E9) return 'a' + (c - 0x24D0);  // ⓐ..ⓩ
  if (c >= 0x1D400 && c <= 0x1D6A3) {  // mathematical bold, italic, script, ... A-Z a-z
    char32_t offset = (c - 0x1D400) % 52;
    return offset < 26 ? 'a' + offset : 'a' + (offset - 26);
  }
  if (c >= 0x1F130 && c <= 0x1F149) return 'a' + (c - 0x1F130);  // squared letters
  if (c >= 0x1F150 && c <= 0x1F169) return 'a' + (c - 0x1F150);  // negative circled
  if (c >= 0x1F170 && c <= 0x1F189) return 'a' + (c - 0x1F170);  // negative squared
  if (c >= 0x1F1E6 && c <= 0x1F1FF) return 'a' + (c - 0x1F1E6);  // regional indicators
  return FoldTable(c);
}

std::string_view LeetLetters(char32_t c) {
  switch (c) {
    case '0': return "o";
    case '1': return "il";
    case '!': return "i";
    case '|': return "il";
    case '3': return "e";
    case '4': return "a";
    case '@': return "a";
    case '5': return "s";
    case '$': return "s";
    case '7': return "t";
    case '+': return "t";
    case '8': return "b";
    case '9': return "g";
    case '6': return "g";
    case '2': return "z";
    case 0x00A1: return "i";  // ¡
    default: return {};
  }
}

bool IsLetter(char32_t c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c < 0x80) return false;
  // Alphabetic scripts beyond Latin: count them as letters so words in them form tokens.
  return (c >= 0x00C0 && c <= 0x024F && c != 0x00D7 && c != 0x00F7) || (c >= 0x0370 && c <= 0x03FF) ||
         (c >= 0x0400 && c <= 0x052F) || (c >= 0x0590 && c <= 0x06FF) || (c >= 0x0900 && c <= 0x0DFF) ||
         (c >= 0x3040 && c <= 0x30FF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7AF);
}

bool IsUpperCase(char32_t c) {
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= 0x00C0 && c <= 0x00DE && c != 0x00D7) return true;
  if ((c >= 0x0139 && c <= 0x0148) || (c >= 0x0179 && c <= 0x017E)) return c % 2 == 1;  // odd capitals
  if (c >= 0x0100 && c <= 0x017F) return c % 2 == 0 && c != 0x0138;
  if (c >= 0x0410 && c <= 0x042F) return true;
  if (c >= 0x0391 && c <= 0x03A9) return true;
  return false;
}

std::string Skeleton(std::string_view text) {
  std::string out;
  char32_t last = 0;
  bool pending_space = false;
  std::vector<char32_t> folded;
  for (const CodePoint& cp : DecodeUtf8(text)) {
    if (char32_t f = Fold(cp.value); f != 0) folded.push_back(f);
  }
  auto alnum = [](char32_t f) { return IsLetter(f) || (f >= '0' && f <= '9'); };
  for (std::size_t i = 0; i < folded.size(); ++i) {
    char32_t f = folded[i];
    std::string_view leet = LeetLetters(f);
    if (!IsLetter(f) && !leet.empty()) {
      // A symbol stand-in ('$', '@', '!') is a letter only when a letter or digit follows it
      // (past more stand-ins): "$hit" and "sh!t" are words, the "!!" of "hello!!" is not.
      bool digit = f >= '0' && f <= '9';
      std::size_t j = i + 1;
      while (!digit && j < folded.size() && !alnum(folded[j]) && !LeetLetters(folded[j]).empty()) ++j;
      if (digit || (j < folded.size() && alnum(folded[j]))) f = static_cast<char32_t>(leet[0]);
    }
    if (IsLetter(f) || (f >= '0' && f <= '9')) {
      if (pending_space && !out.empty()) out.push_back(' ');
      pending_space = false;
      if (f != last) AppendUtf8(out, f);
      last = f;
    } else if (f == ' ' || f == '\n' || f == '\t' || f == 0x00A0 || f == 0x3000) {
      pending_space = true;
      last = 0;
    }
    // Other punctuation: dropped, so "w.o.r.l.d" reads "world".
  }
  return out;
}

}  // namespace veza::moderation
