#pragma once
// Test support: runs one of the Python fakes of tests/fakes/ (run_fake.py) as a child process on
// an ephemeral port, and talks to its /_control/ API. Also builds ChangeEvents and contexts.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "adapters/common/http_client.h"
#include "scim/adapters/registry.h"
#include "scim/common/json.h"
#include "scim/events/target_adapter.h"

namespace scim::adapters::testing {

class FakeServer {
 public:
  // Starts `python3 tests/fakes/run_fake.py <kind> --port 0 --port-file F <args...>` and waits for
  // it to listen. Throws when it does not come up within 15 s.
  explicit FakeServer(std::string kind, std::vector<std::string> args = {}) : kind_(std::move(kind)) {
    char dir_template[] = "/tmp/scimd-fake-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = dir_template;
    std::string port_file = dir_ + "/port";
    std::string script = std::string(SCIMD_SOURCE_DIR) + "/tests/fakes/run_fake.py";
    std::vector<std::string> argv = {"python3", script, kind_, "--host", "127.0.0.1", "--port", "0",
                                     "--port-file", port_file};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the test binary
      if (getppid() != parent) _exit(1);
      int devnull = open("/dev/null", O_WRONLY);
      if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
      std::vector<char*> c_argv;
      for (auto& a : argv) c_argv.push_back(a.data());
      c_argv.push_back(nullptr);
      execvp("python3", c_argv.data());
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(port_file);
      if (in >> port_ && port_ > 0) break;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("fake " + kind_ + " exited during start-up");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (port_ <= 0) throw std::runtime_error("fake " + kind_ + " did not start");
    base_url_ = "http://127.0.0.1:" + std::to_string(port_);
  }

  ~FakeServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      for (int i = 0; i < 100; ++i) {
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
      }
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  const std::string& url() const { return base_url_; }
  const std::string& dir() const { return dir_; }

  // POST /_control/<name> with a JSON body; the answer's body. Fails the test on a non-200.
  std::string Control(const std::string& name, const std::string& body = "{}") {
    auto response = Send("POST", "/_control/" + name, body);
    BOOST_REQUIRE_MESSAGE(response.status == 200,
                          "control " + name + " answered " + std::to_string(response.status) +
                              ": " + response.body);
    return response.body;
  }
  void Reset() { Control("reset"); }
  void Mode(const std::string& body) { Control("mode", body); }
  void Config(const std::string& body) { Control("config", body); }

  // GET /_control/state parsed into `doc`.
  void State(json::Document& doc) {
    auto response = Send("GET", "/_control/state", "");
    BOOST_REQUIRE_EQUAL(response.status, 200);
    BOOST_REQUIRE(json::Parse(response.body, doc, 256).ok());
  }

 private:
  HttpResponse Send(const std::string& method, const std::string& path, const std::string& body) {
    HttpRequest request;
    request.method = method;
    request.url = base_url_ + path;
    if (!body.empty()) request.headers = {{"Content-Type", "application/json"}};
    request.body = body;
    auto response = client_.Send(request);
    BOOST_REQUIRE_MESSAGE(response.ok(), "control call failed");
    return response.value();
  }

  std::string kind_;
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string base_url_;
  HttpClient client_;
};

// The records array `name` of a fake's state.
inline const json::Value& Records(const json::Document& state, const char* name) {
  const json::Value& records = state["records"];
  BOOST_REQUIRE(records.IsObject() && records.HasMember(name));
  return records[name];
}

// The string member `name` of `v` ("" when absent or not a string).
inline std::string Str(const json::Value& v, const char* name) {
  if (!v.IsObject()) return "";
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsString()) return "";
  return std::string(json::View(it->value));
}

// The API requests of a state's log (control calls are not logged).
inline const json::Value& Requests(const json::Document& state) {
  BOOST_REQUIRE(state.HasMember("requests"));
  return state["requests"];
}

inline int CountRequests(const json::Document& state, const std::string& method,
                         const std::string& path_prefix) {
  int n = 0;
  for (const auto& r : Requests(state).GetArray()) {
    if (Str(r, "method") == method && Str(r, "path").starts_with(path_prefix)) ++n;
  }
  return n;
}

inline events::ChangeEvent MakeEvent(events::ChangeKind kind, const std::string& type,
                                     const std::string& id, const std::string& payload,
                                     int64_t seq) {
  events::ChangeEvent event;
  event.seq = seq;
  event.tenant = "default";
  event.resource_type = type;
  event.resource_id = id;
  event.kind = kind;
  event.version = seq;
  event.payload = payload;
  event.created = "2026-11-21T15:26:00.123Z";
  return event;
}

// {"resource": <resource>} (+ ,"members": <members>).
inline std::string Payload(const std::string& resource, const std::string& members = "") {
  std::string out = "{\"resource\":" + resource;
  if (!members.empty()) out += ",\"members\":" + members;
  return out + "}";
}

inline events::DeliveryContext Context(const std::string& target, int64_t seq,
                                       std::optional<std::string> target_id = std::nullopt) {
  events::DeliveryContext context;
  context.target_id = std::move(target_id);
  context.idempotency_key = target + ":" + std::to_string(seq);
  return context;
}

inline std::unique_ptr<events::TargetAdapter> MakeAdapter(const TargetConfig& config) {
  auto adapter = DefaultAdapterRegistry().Create(config);
  BOOST_REQUIRE_MESSAGE(adapter.ok(), (adapter.ok() ? std::string() : adapter.error().detail));
  return std::move(adapter).value();
}

}  // namespace scim::adapters::testing

// Boost.Test printing of outcomes' status.
namespace scim::events {
inline std::ostream& operator<<(std::ostream& os, DeliveryStatus status) {
  return os << DeliveryStatusName(status);
}
}  // namespace scim::events

namespace scim {
inline std::ostream& operator<<(std::ostream& os, ErrorCode code) { return os << ErrorCodeName(code); }
}  // namespace scim
