#pragma once
// Timestamps as SCIM writes them (RFC 7643 §2.3.5, xsd:dateTime): UTC, millisecond precision,
// e.g. "2026-11-21T15:26:00.123Z". Fixed width, so they sort as text in SQL.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace scim {

std::string FormatTimestamp(std::chrono::system_clock::time_point t);
std::string NowTimestamp();

// Parses an xsd:dateTime with an optional fraction and a Z or ±hh:mm offset, and returns it in
// the canonical form above; nullopt when it is not a valid dateTime.
std::optional<std::string> NormalizeTimestamp(std::string_view text);

}  // namespace scim
