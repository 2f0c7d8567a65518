#include "http/sync_rendering.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <span>
#include <type_traits>
#include <variant>

namespace scim::http {
namespace {

std::string EscapeLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatSeconds(double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", seconds);
  return buf;
}

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// The values of the rows' fields: strings, absent optionals as null, counts, flags, and seconds
// cut to milliseconds.
void WriteValue(JsonWriter& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void WriteValue(JsonWriter& w, const std::optional<std::string>& s) {
  if (s) {
    WriteValue(w, *s);
  } else {
    w.Null();
  }
}
void WriteValue(JsonWriter& w, int64_t n) { w.Int64(n); }
void WriteValue(JsonWriter& w, int n) { w.Int(n); }
void WriteValue(JsonWriter& w, bool b) { w.Bool(b); }
void WriteValue(JsonWriter& w, double seconds) {
  w.Double(static_cast<double>(static_cast<int64_t>(seconds * 1000)) / 1000);
}

// One member of a JSON object: its key and the row's field it renders (WriteValue), or a function
// that renders what is not a plain field (a nested array).
template <class Row>
struct JsonField {
  using Custom = void (*)(JsonWriter&, const Row&);
  const char* key;
  std::variant<std::string Row::*, std::optional<std::string> Row::*, int64_t Row::*, int Row::*,
               bool Row::*, double Row::*, Custom>
      field;
};

template <class Row>
void WriteObject(JsonWriter& w, const Row& row, std::span<const JsonField<Row>> fields) {
  w.StartObject();
  for (const JsonField<Row>& f : fields) {
    w.Key(f.key);
    std::visit(
        [&](auto field) {
          if constexpr (std::is_same_v<decltype(field), typename JsonField<Row>::Custom>) {
            field(w, row);
          } else {
            WriteValue(w, row.*field);
          }
        },
        f.field);
  }
  w.EndObject();
}

template <class Row>
void WriteArray(JsonWriter& w, const std::vector<Row>& rows,
                std::span<const JsonField<Row>> fields) {
  w.StartArray();
  for (const Row& row : rows) {
    WriteObject(w, row, fields);
  }
  w.EndArray();
}

// {"<key>":[<one object per row>]}
template <class Row>
std::string ListJson(const char* key, const std::vector<Row>& rows,
                     std::span<const JsonField<Row>> fields) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key(key);
  WriteArray(w, rows, fields);
  w.EndObject();
  return buffer.GetString();
}

const JsonField<store::TargetNotice> kNoticeFields[] = {
    {"topic", &store::TargetNotice::topic},
    {"message", &store::TargetNotice::message},
    {"since", &store::TargetNotice::since},
    {"updated", &store::TargetNotice::updated},
};

void WriteNotices(JsonWriter& w, const store::TargetStatus& t) {
  WriteArray<store::TargetNotice>(w, t.notices, kNoticeFields);
}

const JsonField<store::TargetStatus> kTargetStatusFields[] = {
    {"name", &store::TargetStatus::name},
    {"type", &store::TargetStatus::type},
    {"pending", &store::TargetStatus::pending},
    {"in_flight", &store::TargetStatus::in_flight},
    {"blocked", &store::TargetStatus::blocked},
    {"delivered", &store::TargetStatus::delivered},
    {"failed", &store::TargetStatus::failed},
    {"oldest_pending_seconds", &store::TargetStatus::oldest_pending_seconds},
    {"last_error", &store::TargetStatus::last_error},
    {"notices", &WriteNotices},
    // The circuit breaker (issue 12): a target that looks down is paused and probed.
    {"paused", &store::TargetStatus::paused},
    {"paused_since", &store::TargetStatus::paused_since},
    {"pause_reason", &store::TargetStatus::pause_reason},
    {"next_probe_at", &store::TargetStatus::next_probe_at},
};

const JsonField<store::DeliveryRow> kDeliveryFields[] = {
    {"id", &store::DeliveryRow::id},
    {"seq", &store::DeliveryRow::seq},
    {"target", &store::DeliveryRow::target},
    {"tenant", &store::DeliveryRow::tenant},
    {"resource_type", &store::DeliveryRow::resource_type},
    {"resource_id", &store::DeliveryRow::resource_id},
    {"event", &store::DeliveryRow::event},
    {"status", &store::DeliveryRow::status},
    {"attempts", &store::DeliveryRow::attempts},
    {"last_error", &store::DeliveryRow::last_error},
    {"updated", &store::DeliveryRow::updated},
};

const JsonField<store::Link> kLinkFields[] = {
    {"target", &store::Link::target},           {"resource_type", &store::Link::resource_type},
    {"resource_id", &store::Link::resource_id}, {"external_id", &store::Link::external_id},
    {"tenant", &store::Link::tenant},
};

// A Prometheus gauge with one series per target, and for some an extra label per series
// (scimd_deliveries_total: one per outcome). Counts render as integers, seconds with three
// decimals, flags as 1 or 0.
struct TargetSeries {
  const char* extra_labels;  // appended to target="...", e.g. ",outcome=\"failed\""
  std::variant<int64_t store::TargetMetrics::*, double store::TargetMetrics::*,
               bool store::TargetMetrics::*>
      field;
};
struct TargetGauge {
  const char* name;
  const char* help;
  std::span<const TargetSeries> series;
};

const TargetSeries kTotalsSeries[] = {
    {",outcome=\"delivered\"", &store::TargetMetrics::delivered},
    {",outcome=\"failed\"", &store::TargetMetrics::failed},
    {",outcome=\"pending\"", &store::TargetMetrics::pending},
};
const TargetSeries kOldestSeries[] = {{"", &store::TargetMetrics::oldest_pending_seconds}};
const TargetSeries kPausedSeries[] = {{"", &store::TargetMetrics::paused}};
const TargetSeries kPausedForSeries[] = {{"", &store::TargetMetrics::paused_seconds}};

const TargetGauge kTargetGauges[] = {
    {"scimd_deliveries_total", "Deliveries by target and current outcome.", kTotalsSeries},
    {"scimd_delivery_oldest_pending_seconds", "Age of the oldest undelivered delivery.",
     kOldestSeries},
    {"scimd_target_paused",
     "1 while the target's circuit breaker holds its deliveries back (it looks down), else 0.",
     kPausedSeries},
    {"scimd_target_paused_seconds", "How long the target has been paused (0 when not).",
     kPausedForSeries},
};

std::string GaugeHeader(const std::string& name, const char* help) {
  return "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n";
}

std::string SeriesValue(int64_t count) { return std::to_string(count); }
std::string SeriesValue(double seconds) { return FormatSeconds(seconds); }
std::string SeriesValue(bool flag) { return flag ? "1" : "0"; }

}  // namespace

std::string SyncStatusJson(const std::vector<store::TargetStatus>& targets) {
  return ListJson<store::TargetStatus>("targets", targets, kTargetStatusFields);
}

std::string DeliveriesJson(const std::vector<store::DeliveryRow>& deliveries) {
  return ListJson<store::DeliveryRow>("deliveries", deliveries, kDeliveryFields);
}

std::string LinksJson(const std::vector<store::Link>& links) {
  return ListJson<store::Link>("links", links, kLinkFields);
}

std::string DeliveryMetricsText(const store::DeliveryMetrics& metrics) {
  std::string text =
      GaugeHeader("scimd_outbox_depth",
                  "Outbox events not yet queued for every target or still pending delivery.");
  text += "scimd_outbox_depth " + std::to_string(metrics.outbox_depth) + "\n";
  // Each gauge's series of every target come together, after its HELP and TYPE lines.
  for (const TargetGauge& gauge : kTargetGauges) {
    text += GaugeHeader(gauge.name, gauge.help);
    for (const store::TargetMetrics& t : metrics.targets) {
      const std::string label = "target=\"" + EscapeLabel(t.name) + "\"";
      for (const TargetSeries& s : gauge.series) {
        text += std::string(gauge.name) + "{" + label + s.extra_labels + "} " +
                std::visit([&](auto field) { return SeriesValue(t.*field); }, s.field) + "\n";
      }
    }
  }
  return text;
}

}  // namespace scim::http
