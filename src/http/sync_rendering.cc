#include "http/sync_rendering.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>

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

void WriteString(JsonWriter& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void WriteOptional(JsonWriter& w, const std::optional<std::string>& s) {
  if (s) {
    WriteString(w, *s);
  } else {
    w.Null();
  }
}

}  // namespace

std::string SyncStatusJson(const std::vector<store::TargetStatus>& targets) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("targets");
  w.StartArray();
  for (const store::TargetStatus& t : targets) {
    w.StartObject();
    w.Key("name");
    WriteString(w, t.name);
    w.Key("type");
    WriteString(w, t.type);
    w.Key("pending");
    w.Int64(t.pending);
    w.Key("in_flight");
    w.Int64(t.in_flight);
    w.Key("blocked");
    w.Int64(t.blocked);
    w.Key("delivered");
    w.Int64(t.delivered);
    w.Key("failed");
    w.Int64(t.failed);
    w.Key("oldest_pending_seconds");
    w.Double(static_cast<double>(static_cast<int64_t>(t.oldest_pending_seconds * 1000)) / 1000);
    w.Key("last_error");
    WriteOptional(w, t.last_error);
    w.Key("notices");
    w.StartArray();
    for (const store::TargetNotice& n : t.notices) {
      w.StartObject();
      w.Key("topic");
      WriteString(w, n.topic);
      w.Key("message");
      WriteString(w, n.message);
      w.Key("since");
      WriteString(w, n.since);
      w.Key("updated");
      WriteString(w, n.updated);
      w.EndObject();
    }
    w.EndArray();
    // The circuit breaker (issue 12): a target that looks down is paused and probed.
    w.Key("paused");
    w.Bool(t.paused);
    w.Key("paused_since");
    WriteOptional(w, t.paused_since);
    w.Key("pause_reason");
    WriteOptional(w, t.pause_reason);
    w.Key("next_probe_at");
    WriteOptional(w, t.next_probe_at);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

std::string DeliveriesJson(const std::vector<store::DeliveryRow>& deliveries) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("deliveries");
  w.StartArray();
  for (const store::DeliveryRow& d : deliveries) {
    w.StartObject();
    w.Key("id");
    w.Int64(d.id);
    w.Key("seq");
    w.Int64(d.seq);
    w.Key("target");
    WriteString(w, d.target);
    w.Key("tenant");
    WriteString(w, d.tenant);
    w.Key("resource_type");
    WriteString(w, d.resource_type);
    w.Key("resource_id");
    WriteString(w, d.resource_id);
    w.Key("event");
    WriteString(w, d.event);
    w.Key("status");
    WriteString(w, d.status);
    w.Key("attempts");
    w.Int(d.attempts);
    w.Key("last_error");
    WriteOptional(w, d.last_error);
    w.Key("updated");
    WriteString(w, d.updated);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

std::string LinksJson(const std::vector<store::Link>& links) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("links");
  w.StartArray();
  for (const store::Link& l : links) {
    w.StartObject();
    w.Key("target");
    WriteString(w, l.target);
    w.Key("resource_type");
    WriteString(w, l.resource_type);
    w.Key("resource_id");
    WriteString(w, l.resource_id);
    w.Key("external_id");
    WriteString(w, l.external_id);
    w.Key("tenant");
    WriteString(w, l.tenant);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

std::string DeliveryMetricsText(const store::DeliveryMetrics& metrics) {
  std::string text =
      "# HELP scimd_outbox_depth Outbox events not yet queued for every target or still "
      "pending delivery.\n# TYPE scimd_outbox_depth gauge\n";
  text += "scimd_outbox_depth " + std::to_string(metrics.outbox_depth) + "\n";
  std::string totals =
      "# HELP scimd_deliveries_total Deliveries by target and current outcome.\n"
      "# TYPE scimd_deliveries_total gauge\n";
  std::string oldest =
      "# HELP scimd_delivery_oldest_pending_seconds Age of the oldest undelivered delivery.\n"
      "# TYPE scimd_delivery_oldest_pending_seconds gauge\n";
  std::string paused =
      "# HELP scimd_target_paused 1 while the target's circuit breaker holds its deliveries "
      "back (it looks down), else 0.\n# TYPE scimd_target_paused gauge\n";
  std::string paused_for =
      "# HELP scimd_target_paused_seconds How long the target has been paused (0 when not).\n"
      "# TYPE scimd_target_paused_seconds gauge\n";
  for (const store::TargetMetrics& t : metrics.targets) {
    std::string label = "target=\"" + EscapeLabel(t.name) + "\"";
    paused += "scimd_target_paused{" + label + "} " + (t.paused ? "1" : "0") + "\n";
    paused_for +=
        "scimd_target_paused_seconds{" + label + "} " + FormatSeconds(t.paused_seconds) + "\n";
    totals += "scimd_deliveries_total{" + label + ",outcome=\"delivered\"} " +
              std::to_string(t.delivered) + "\n";
    totals += "scimd_deliveries_total{" + label + ",outcome=\"failed\"} " +
              std::to_string(t.failed) + "\n";
    totals += "scimd_deliveries_total{" + label + ",outcome=\"pending\"} " +
              std::to_string(t.pending) + "\n";
    oldest += "scimd_delivery_oldest_pending_seconds{" + label + "} " +
              FormatSeconds(t.oldest_pending_seconds) + "\n";
  }
  return text + totals + oldest + paused + paused_for;
}

}  // namespace scim::http
