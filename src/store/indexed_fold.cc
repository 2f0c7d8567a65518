#include "store/indexed_fold.h"

#include "scim/common/strings.h"
#include "scim/common/utf8.h"

namespace scim::store {

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::optional<std::string> CaseExactFoldedPrefix(std::string_view lit, bool truncated) {
  std::string_view safe = lit.substr(0, lit.empty() ? 0 : lit.size() - 1);
  if (!IsAscii(lit) || safe.empty()) return std::nullopt;
  std::string safe_lc = ToLower(safe);
  return truncated ? std::string(Utf8Prefix(safe_lc, kShortLiteral)) : safe_lc;
}

std::string IndexedValueLc(std::string_view value) { return IndexedValueFold(value).lc; }

IndexedFold IndexedValueFold(std::string_view value) {
  IndexedFold fold;
  std::string full = FoldCase(value);
  fold.lc = std::string(Utf8Prefix(full, kMaxIndexedValueBytes));
  if (fold.lc.size() < full.size()) fold.full = std::move(full);
  return fold;
}

}  // namespace scim::store
