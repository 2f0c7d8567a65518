// scim::FoldCase: Unicode full case folding (default, not Turkic) of the NFC form, the key of every
// caseExact=false comparison (filters, PATCH, userName uniqueness).

#include <boost/test/unit_test.hpp>

#include "scim/common/strings.h"

namespace scim {
namespace {

BOOST_AUTO_TEST_SUITE(common_unicode_fold)

BOOST_AUTO_TEST_CASE(ascii_is_lower_cased) {
  BOOST_CHECK_EQUAL(FoldCase("Barbara.JENSEN@Example.com"), "barbara.jensen@example.com");
  BOOST_CHECK_EQUAL(FoldCase(""), "");
  BOOST_CHECK_EQUAL(FoldCase("a[b]%_\\*?"), "a[b]%_\\*?");
}

BOOST_AUTO_TEST_CASE(umlauts_fold_together) {
  BOOST_CHECK_EQUAL(FoldCase("JÜRGEN"), "jürgen");
  BOOST_CHECK_EQUAL(FoldCase("jürgen"), "jürgen");
  BOOST_CHECK_EQUAL(FoldCase("Ü"), "ü");
  // Decomposed u + U+0308 COMBINING DIAERESIS is canonically equivalent: NFC makes it one key.
  BOOST_CHECK_EQUAL(FoldCase("JU\xCC\x88RGEN"), "jürgen");
  BOOST_CHECK_EQUAL(FoldCase("ÉLAN"), FoldCase("élan"));
}

BOOST_AUTO_TEST_CASE(sharp_s_folds_fully_to_ss) {
  // Full folding (status F): ß and ẞ (U+1E9E) become "ss", so Straße and STRASSE are one name.
  BOOST_CHECK_EQUAL(FoldCase("ß"), "ss");
  BOOST_CHECK_EQUAL(FoldCase("ẞ"), "ss");
  BOOST_CHECK_EQUAL(FoldCase("Straße"), "strasse");
  BOOST_CHECK_EQUAL(FoldCase("STRASSE"), FoldCase("straße"));
}

BOOST_AUTO_TEST_CASE(sigma_forms_fold_to_one) {
  BOOST_CHECK_EQUAL(FoldCase("Σ"), "σ");
  BOOST_CHECK_EQUAL(FoldCase("σ"), "σ");
  BOOST_CHECK_EQUAL(FoldCase("ς"), "σ");  // final sigma
  BOOST_CHECK_EQUAL(FoldCase("ΟΔΥΣΣΕΥΣ"), FoldCase("Οδυσσευς"));
}

BOOST_AUTO_TEST_CASE(turkish_i_uses_the_default_folding) {
  // Default (non-Turkic) folding: I -> i; İ (U+0130) -> i + U+0307; ı (U+0131) has no folding.
  BOOST_CHECK_EQUAL(FoldCase("I"), "i");
  BOOST_CHECK_EQUAL(FoldCase("İ"), "i\xCC\x87");
  BOOST_CHECK_EQUAL(FoldCase("ı"), "ı");
  BOOST_CHECK(FoldCase("ı") != FoldCase("I"));
  BOOST_CHECK_EQUAL(FoldCase("İSTANBUL"), "i\xCC\x87stanbul");
}

BOOST_AUTO_TEST_CASE(other_scripts_and_compatibility_characters) {
  BOOST_CHECK_EQUAL(FoldCase("\xE2\x84\xAA"), "k");  // U+212A KELVIN SIGN
  BOOST_CHECK_EQUAL(FoldCase("ΆΡΗΣ"), FoldCase("άρης"));
  BOOST_CHECK_EQUAL(FoldCase("ДМИТРИЙ"), "дмитрий");
  BOOST_CHECK_EQUAL(FoldCase("日本語"), "日本語");
  BOOST_CHECK_EQUAL(FoldCase("😀 Smile"), "😀 smile");
  // NFC is kept, not NFKC: the "ﬁ" ligature folds (full folding) to "fi", but ² stays ².
  BOOST_CHECK_EQUAL(FoldCase("ﬁ"), "fi");
  BOOST_CHECK_EQUAL(FoldCase("x²"), "x²");
}

BOOST_AUTO_TEST_CASE(folding_is_idempotent) {
  for (const char* s : {"JÜRGEN", "Straße", "ΣΊΣΥΦΟΣ", "İstanbul", "ǅ", "ᾼ", "ﬃ", "ŉ"}) {
    std::string once = FoldCase(s);
    BOOST_CHECK_EQUAL(FoldCase(once), once);
  }
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_lower_cased_bytewise) {
  std::string bad = "AB\xC3(\xFF";
  BOOST_CHECK_EQUAL(FoldCase(bad), "ab\xC3(\xFF");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim
