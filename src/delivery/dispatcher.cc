#include "scim/delivery/dispatcher.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>

#include "delivery/adapter_calls.h"
#include "delivery/delivery_queue.h"
#include "scim/common/clock.h"
#include "scim/store/database.h"
#include "scim/store/retention.h"

namespace scim::delivery {
namespace {

using Clock = std::chrono::steady_clock;

// How often the housekeeper looks for expired leases (at most; shorter leases check sooner).
constexpr std::chrono::milliseconds kReapInterval{1000};
// Pause after a database error before a worker tries again.
constexpr std::chrono::milliseconds kErrorPause{1000};
// Attempts at recording an outcome before giving up (the lease then expires and the event is
// delivered again: idempotent, but better avoided).
constexpr int kRecordAttempts = 3;
// A periodic warning that repeats unchanged (database down) is logged at most this often.
constexpr std::chrono::seconds kRepeatedLogInterval{30};

struct TargetState {
  DispatchTarget target;
  std::string name;
  std::mutex fan_out_mu;  // one fan-out per target at a time in this process
};

struct Pass {
  int delivered = 0;  // Deliver() calls made
  bool more = false;  // there may be more to do right away
  bool full = false;  // the claim brought as many non-batchable rows as it asked for
};

}  // namespace

// State shared by the Dispatcher and its threads. Threads hold a shared_ptr to it, so a thread
// left behind by Stop() never touches freed memory.
struct Dispatcher::Shared {
  Shared(std::shared_ptr<store::Database> database, std::vector<DispatchTarget> list,
         DispatcherOptions opts)
      : db(std::move(database)),
        options(std::move(opts)),
        queue(*db, options.owner_id.empty() ? NewOwnerId() : options.owner_id, options.breaker) {
    for (DispatchTarget& t : list) {
      auto state = std::make_unique<TargetState>();
      state->name = t.adapter ? std::string(t.adapter->Name()) : std::string();
      state->target = std::move(t);
      targets.push_back(std::move(state));
    }
    std::vector<std::string> followers;
    for (const auto& t : targets) {
      if (t->target.adapter && t->target.adapter->WantsLinkChanges()) followers.push_back(t->name);
    }
    queue.SetLinkFollowers(std::move(followers));
  }

  std::shared_ptr<store::Database> db;
  DispatcherOptions options;
  DeliveryQueue queue;
  std::vector<std::unique_ptr<TargetState>> targets;

  std::mutex mu;  // guards generation; cv waits on it
  std::condition_variable cv;
  uint64_t generation = 0;
  std::atomic<bool> stopping{false};

  std::mutex in_progress_mu;  // deliveries claimed by this process and not recorded yet
  std::multiset<int64_t> in_progress;

  std::mutex done_mu;
  std::condition_variable done_cv;
  int running = 0;

  std::mutex log_mu;  // guards last_logged
  std::map<std::string, Clock::time_point> last_logged;

  int64_t LeaseMs() const { return std::max<int64_t>(100, options.lease_duration.count()); }

  void Log(LogLevel level, const std::string& message) const {
    if (options.log) {
      options.log(level, message);
    } else {
      scim::log::Write(level, "delivery: " + message);
    }
  }

  // Log() for the messages a periodic task repeats while the database is down: each distinct
  // message at most once per kRepeatedLogInterval.
  void LogRepeated(LogLevel level, const std::string& message) {
    {
      std::lock_guard<std::mutex> lock(log_mu);
      auto now = Clock::now();
      auto [it, inserted] = last_logged.emplace(message, now);
      if (!inserted && now - it->second < kRepeatedLogInterval) return;
      it->second = now;
    }
    Log(level, message);
  }

  uint64_t Generation() {
    std::lock_guard<std::mutex> lock(mu);
    return generation;
  }

  void Wake() {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++generation;
    }
    cv.notify_all();
  }

  // Sleeps until Wake(), Stop() or `timeout`, unless a wake-up came after `seen` was read.
  // True when woken (or a wake-up had come) before the timeout, and not stopping.
  bool WaitForWork(uint64_t seen, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu);
    bool woken = cv.wait_for(lock, timeout, [&] { return stopping.load() || generation != seen; });
    return woken && !stopping.load();
  }

  void Track(const std::vector<ClaimedDelivery>& claimed) {
    std::lock_guard<std::mutex> lock(in_progress_mu);
    for (const ClaimedDelivery& c : claimed) {
      for (int64_t id : RowIds(c)) in_progress.insert(id);
    }
  }

  // Forgets a claimed row and the rows coalesced with it.
  void Untrack(const ClaimedDelivery& c) {
    std::lock_guard<std::mutex> lock(in_progress_mu);
    for (int64_t id : RowIds(c)) {
      if (auto it = in_progress.find(id); it != in_progress.end()) in_progress.erase(it);
    }
  }

  std::vector<int64_t> InProgress() {
    std::lock_guard<std::mutex> lock(in_progress_mu);
    return std::vector<int64_t>(in_progress.begin(), in_progress.end());
  }

  CallLog CallLogger() const {
    return [this](LogLevel level, const std::string& message) { Log(level, message); };
  }

  void LogOutcome(const TargetState& t, const ClaimedDelivery& c,
                  const events::DeliveryOutcome& outcome) const {
    if (outcome.status == events::DeliveryStatus::kFailed) {
      Log(LogLevel::kWarning, "delivery of event " + std::to_string(c.event.seq) + " (" +
                                  c.event.resource_type + " " + c.event.resource_id + ") to " +
                                  t.name + " failed: " + outcome.error);
    } else if (outcome.status == events::DeliveryStatus::kRetry) {
      Log(LogLevel::kDebug, "delivery of event " + std::to_string(c.event.seq) + " to " + t.name +
                                " will be retried: " + outcome.error);
    }
  }

  void NoteRecorded(const TargetState& t, const ClaimedDelivery& c, const Recorded& recorded,
                    const std::string& error) {
    if (recorded.opened) {
      Log(LogLevel::kWarning, "target " + t.name + " paused: it looks down (" + error +
                                  "); probing it with one delivery at a time");
    } else if (recorded.resumed) {
      Log(LogLevel::kInfo, "target " + t.name + " answers again; delivery resumed");
      Wake();
    }
    if (!recorded.owned) {
      Log(LogLevel::kWarning, "delivery " + std::to_string(c.id) + " to " + t.name +
                                  ": lease lost before the outcome was recorded; its new "
                                  "owner decides");
    }
  }

  // Runs `record` up to kRecordAttempts times; false (logged) when it never succeeded: the
  // deliveries are then attempted again when their leases expire.
  template <class F>
  bool RecordWithRetries(const TargetState& t, const std::string& what, F record) {
    for (int attempt = 1;; ++attempt) {
      auto result = record();
      if (result.ok()) return true;
      if (attempt >= kRecordAttempts) {
        Log(LogLevel::kError, what + " to " + t.name + ": cannot record outcome (" +
                                  result.error().detail +
                                  "); it will be attempted again when its lease expires");
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
    }
  }

  // Records the buffered outcomes the target answered, in one transaction.
  void Flush(TargetState& t, std::vector<DeliveryQueue::Answered>& buffered) {
    if (buffered.empty()) return;
    Result<std::vector<Recorded>> recorded = std::vector<Recorded>();
    RecordWithRetries(t, std::to_string(buffered.size()) + " delivery outcome(s)", [&] {
      recorded = queue.RecordAnswered(t.name, buffered, t.target.retry);
      return recorded;
    });
    for (size_t i = 0; i < buffered.size(); ++i) {
      if (recorded.ok() && i < recorded->size()) {
        NoteRecorded(t, *buffered[i].delivery, (*recorded)[i], buffered[i].outcome.error);
      }
      Untrack(*buffered[i].delivery);
    }
    buffered.clear();
  }

  // Records a target-wide failure at once (the breaker must know before the next call).
  // Returns whether the target is paused after it.
  bool RecordTargetWide(TargetState& t, const ClaimedDelivery& c,
                        const events::DeliveryOutcome& outcome, double random01) {
    Result<Recorded> recorded = Recorded();
    bool ok = RecordWithRetries(t, "delivery " + std::to_string(c.id), [&] {
      recorded = queue.Record(t.name, c, outcome, t.target.retry, random01);
      return recorded;
    });
    Untrack(c);
    if (!ok || !recorded.ok()) return false;
    NoteRecorded(t, c, *recorded, outcome.error);
    return recorded->paused;
  }

  // Hands claimed deliveries that were not attempted back (pending, attempts unchanged).
  void HandBack(const std::vector<ClaimedDelivery>& claimed, size_t from) {
    if (from >= claimed.size()) return;
    std::vector<int64_t> rest;
    for (size_t j = from; j < claimed.size(); ++j) {
      for (int64_t id : RowIds(claimed[j])) rest.push_back(id);
    }
    Status released = queue.Release(rest);
    if (!released.ok()) {
      Log(LogLevel::kWarning, "cannot hand back claimed deliveries: " + released.error().detail +
                                  " (their leases will expire)");
    }
    for (size_t j = from; j < claimed.size(); ++j) Untrack(claimed[j]);
  }

  void WarnMalformedGaps(const std::string& target, const FanOutResult& fanned) const {
    if (fanned.malformed_gaps.empty()) return;
    Log(LogLevel::kWarning, "fan-out to " + target + ": unreadable gap list \"" +
                                fanned.malformed_gaps +
                                "\" in target_cursors; every unsettled seq was read again");
  }

  // The most rows of one resource a claim coalesces into one call for `adapter` (1: none).
  int Coalesce(const events::TargetAdapter& adapter) const {
    try {
      return adapter.Coalesces() ? std::max(1, options.coalesce) : 1;
    } catch (...) {
      return 1;
    }
  }

  // The claim size of a worker's next pass (DispatcherOptions::backlog_claim_batch): twice the
  // last one after a full claim, up to the cap; claim_batch after one that came back short.
  int NextClaimSize(int current, bool full) const {
    const int base = std::max(1, options.claim_batch);
    if (!full) return base;
    return std::min(std::max(base, options.backlog_claim_batch), current * 2);
  }

  // Claims due rows for one pass: `size` rows, and when the adapter batches and some of
  // them are batchable, more rows up to MaxBatch() batchable ones (a stream of users to the CRM
  // claims as before; a stream of stores fills bulk calls). `batchable` says which rows are.
  Result<std::vector<ClaimedDelivery>> ClaimForPass(TargetState& t, int max_batch, int size,
                                                    std::vector<bool>& batchable) {
    const auto& adapter = *t.target.adapter;
    const int first = std::max(1, size);
    SCIM_TRY(auto claimed, queue.Claim(t.name, first, LeaseMs(), Coalesce(adapter)));
    Track(claimed);
    batchable.clear();
    int count = 0;
    for (const ClaimedDelivery& c : claimed) {
      batchable.push_back(max_batch > 1 && IsBatchable(adapter, c));
      count += batchable.back() ? 1 : 0;
    }
    if (count == 0 || count >= max_batch || static_cast<int>(claimed.size()) < first) {
      return claimed;
    }
    auto more = queue.Claim(t.name, max_batch - count, LeaseMs(), Coalesce(adapter));
    if (!more.ok()) {
      Log(LogLevel::kWarning, "claiming a batch for " + t.name + ": " + more.error().detail);
      return claimed;
    }
    Track(*more);
    for (ClaimedDelivery& c : *more) {
      batchable.push_back(IsBatchable(adapter, c));
      claimed.push_back(std::move(c));
    }
    return claimed;
  }

  // Splits a claim into what this pass delivers: the events the adapter can batch first (its
  // DeliverBatch() calls), then up to `size` others in seq order; others beyond that (from
  // a claim sized for batching) are handed back at once for the other workers. Different
  // resources never wait for each other, so delivering the batch first keeps per-resource
  // order (a claim holds at most one row per resource).
  std::vector<ClaimedDelivery> Arrange(std::vector<ClaimedDelivery> claimed,
                                       const std::vector<bool>& can_batch, int size,
                                       size_t& batchable) {
    std::vector<ClaimedDelivery> work, single, rest;
    for (size_t i = 0; i < claimed.size(); ++i) {
      if (can_batch[i]) {
        work.push_back(std::move(claimed[i]));
      } else if (single.size() < static_cast<size_t>(std::max(1, size))) {
        single.push_back(std::move(claimed[i]));
      } else {
        rest.push_back(std::move(claimed[i]));
      }
    }
    batchable = work.size();
    HandBack(rest, 0);
    for (ClaimedDelivery& c : single) work.push_back(std::move(c));
    return work;
  }

  // Records one outcome of the pass: buffered when the target answered, at once when it is a
  // target-wide failure (the first of a DeliverBatch() call; the others of that call are handed
  // back: one failed call is one failure for the breaker). Returns whether the target is paused.
  bool Note(TargetState& t, const ClaimedDelivery& c, events::DeliveryOutcome outcome,
            std::vector<DeliveryQueue::Answered>& buffered, double random01,
            bool& target_wide_seen) {
    LogOutcome(t, c, outcome);
    if (!DeliveryQueue::TargetWide(outcome)) {
      buffered.push_back({&c, std::move(outcome), random01});
      return false;
    }
    if (target_wide_seen) {
      Status released = queue.Release(RowIds(c));
      if (!released.ok()) {
        Log(LogLevel::kWarning, "cannot hand back delivery " + std::to_string(c.id) + ": " +
                                    released.error().detail + " (its lease will expire)");
      }
      Untrack(c);
      return false;
    }
    target_wide_seen = true;
    Flush(t, buffered);
    return RecordTargetWide(t, c, outcome, random01);
  }

  // One round for a target: fan out new outbox rows (unless another thread is doing it), then
  // claim a batch of `claim_size` due deliveries (NextClaimSize) and deliver them: the batchable
  // ones in DeliverBatch() calls, the others one after the other.
  Result<Pass> RunPass(TargetState& t, std::mt19937_64& rng, int claim_size) {
    Pass pass;
    const int max_batch = std::max(1, t.target.adapter->MaxBatch());
    const int claim_limit = std::max(claim_size, max_batch);
    if (t.fan_out_mu.try_lock()) {
      std::lock_guard<std::mutex> guard(t.fan_out_mu, std::adopt_lock);
      SCIM_TRY(auto needed, queue.FanOutNeeded(t.name));
      // A batching target fans out up to a claim's worth before it claims.
      const int rounds = std::max(1, claim_limit / std::max(1, options.fan_out_batch));
      for (int round = 0; needed && round < rounds; ++round) {
        SCIM_TRY(auto fanned, queue.FanOut(*t.target.adapter, options.fan_out_batch));
        WarnMalformedGaps(t.name, fanned);
        pass.more = fanned.more;
        needed = fanned.more;
      }
    }
    SCIM_TRY(auto due, queue.HasDue(t.name));
    if (!due) return pass;
    std::vector<bool> can_batch;
    SCIM_TRY(auto all, ClaimForPass(t, max_batch, claim_size, can_batch));
    size_t batchable = 0;
    const std::vector<ClaimedDelivery> claimed =
        Arrange(std::move(all), can_batch, claim_size, batchable);
    pass.full = claimed.size() - batchable >= static_cast<size_t>(std::max(1, claim_size));
    // Outcomes the target answered are recorded together after the batch (one commit); a
    // target-wide failure is recorded at once, after those before it, since it may pause the
    // target.
    std::vector<DeliveryQueue::Answered> buffered;
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    bool paused = false;
    size_t i = 0;
    while (i < claimed.size() && !paused) {
      if (stopping.load()) {
        HandBack(claimed, i);
        break;
      }
      bool target_wide_seen = false;
      if (i < batchable) {
        const size_t end = std::min(batchable, i + static_cast<size_t>(max_batch));
        std::vector<const ClaimedDelivery*> batch;
        for (size_t j = i; j < end; ++j) batch.push_back(&claimed[j]);
        auto outcomes =
            AttemptBatch(queue, CallLogger(), t.name, *t.target.adapter, batch, buffered);
        for (size_t k = 0; k < batch.size(); ++k) {
          if (!outcomes[k]) {
            Untrack(*batch[k]);
            continue;
          }
          ++pass.delivered;
          paused = Note(t, *batch[k], std::move(*outcomes[k]), buffered, uniform(rng),
                        target_wide_seen) ||
                   paused;
        }
        i = end;
      } else {
        const ClaimedDelivery& c = claimed[i++];
        std::optional<events::DeliveryOutcome> outcome =
            AttemptOne(queue, CallLogger(), t.name, *t.target.adapter, c, buffered);
        if (!outcome) {
          Untrack(c);
          continue;
        }
        ++pass.delivered;
        paused = Note(t, c, std::move(*outcome), buffered, uniform(rng), target_wide_seen);
      }
      // The target is down: the rest of the batch waits for the breaker, attempts unspent.
      if (paused) HandBack(claimed, i);
    }
    Flush(t, buffered);
    // A delivery may have unblocked the next event of its resource (unless the target is
    // paused: then the next probe time is what matters, and HasDue() knows it).
    if (pass.delivered > 0 && !paused) pass.more = true;
    return pass;
  }

  void WorkerLoop(size_t index, uint64_t seed) {
    TargetState& t = *targets[index];
    std::mt19937_64 rng(seed);
    std::string last_error;
    Clock::time_point last_error_at{};
    int claim_size = std::max(1, options.claim_batch);
    while (!stopping.load()) {
      uint64_t seen = Generation();
      auto pass = RunPass(t, rng, claim_size);
      claim_size = NextClaimSize(claim_size, pass.ok() && pass->full);
      if (!pass.ok()) {
        const std::string& detail = pass.error().detail;
        if (detail != last_error || Clock::now() - last_error_at > std::chrono::seconds(30)) {
          Log(LogLevel::kError, "delivery to " + t.name + ": " + detail);
          last_error = detail;
          last_error_at = Clock::now();
        }
        WaitForWork(Generation(), kErrorPause);
        continue;
      }
      last_error.clear();
      if (pass->more) continue;
      // Woken by a commit (not by the poll interval): gather the commits that follow it for a
      // moment (options.wake_delay), one pass for all of them.
      if (WaitForWork(seen, options.poll_interval) && options.wake_delay.count() > 0) {
        PauseUnlessStopping(options.wake_delay);
      }
    }
  }

  void HousekeepingLoop() {
    const auto lease = std::chrono::milliseconds(LeaseMs());
    const auto renew_every = lease / 3;
    const auto reap_every = std::min<std::chrono::milliseconds>(kReapInterval, lease / 2);
    auto next_renew = Clock::now() + renew_every;
    auto next_reap = Clock::now();
    while (!stopping.load()) {
      auto now = Clock::now();
      if (now >= next_reap) {
        int reaped = 0;
        for (auto& t : targets) {
          auto r = queue.ReapExpired(t->name, t->target.retry);
          if (!r.ok()) {
            LogRepeated(LogLevel::kWarning,
                        "reclaiming expired leases of " + t->name + ": " + r.error().detail);
          } else if (*r > 0) {
            Log(LogLevel::kInfo, "reclaimed " + std::to_string(*r) + " delivery(ies) of " +
                                     t->name + " whose lease expired");
            reaped += *r;
          }
        }
        if (reaped > 0) Wake();
        next_reap = now + reap_every;
      }
      if (now >= next_renew) {
        Status renewed = queue.RenewLeases(InProgress(), LeaseMs());
        if (!renewed.ok()) {
          LogRepeated(LogLevel::kWarning, "renewing delivery leases: " + renewed.error().detail);
        }
        next_renew = now + renew_every;
      }
      auto wake_at = std::min(next_reap, next_renew);
      std::unique_lock<std::mutex> lock(mu);
      cv.wait_until(lock, wake_at, [&] { return stopping.load(); });
    }
  }

  // Sleeps `pause` unless Stop() comes first; false once stopping.
  bool PauseUnlessStopping(std::chrono::milliseconds pause) {
    std::unique_lock<std::mutex> lock(mu);
    return !cv.wait_for(lock, pause, [&] { return stopping.load(); });
  }

  static std::string DaysAgo(int64_t days) {
    if (days <= 0) return "";
    return FormatTimestamp(std::chrono::system_clock::now() - std::chrono::hours(24 * days));
  }

  // Retention rounds: batches until nothing is left, then wait for the next round.
  void RetentionLoop() {
    while (!stopping.load()) {
      auto pruned = store::PruneOnce(*db, DaysAgo(options.delivered_days),
                                     DaysAgo(options.audit_days), options.prune_batch);
      if (!pruned.ok()) {
        LogRepeated(LogLevel::kWarning, "retention: " + pruned.error().detail);
      } else if (pruned->outbox + pruned->audit > 0) {
        Log(LogLevel::kDebug, "retention: deleted " + std::to_string(pruned->outbox) +
                                  " outbox event(s), " + std::to_string(pruned->deliveries) +
                                  " delivery row(s), " + std::to_string(pruned->audit) +
                                  " audit row(s)");
      }
      bool more = pruned.ok() && pruned->more;
      if (!PauseUnlessStopping(more ? options.prune_pause : options.prune_interval)) return;
    }
  }

  void ThreadDone(const std::shared_ptr<std::atomic<bool>>& done) {
    std::lock_guard<std::mutex> lock(done_mu);
    done->store(true);
    --running;
    done_cv.notify_all();
  }
};

namespace {

// Sets up an engine thread: its name (seen in top -H, /proc/<pid>/task/*/comm, and by the
// benchmark's per-thread accounting), a lower CPU priority (Linux: setpriority(PRIO_PROCESS,
// tid) changes that thread only, see setpriority(2) BUGS) so API threads win the CPU, and its
// SQLite writes marked background (they let queued API writes go first).
void SetUpEngineThread(const char* name, int niceness) {
  pthread_setname_np(pthread_self(), name);  // at most 15 characters
  if (niceness > 0) {
    // Raising one's own niceness needs no privilege; a failure leaves the priority as it was.
    int current = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
    if (current < niceness) {
      setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), niceness);
    }
  }
  store::MarkBackgroundWriter();
}

}  // namespace

std::string NewOwnerId() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  std::random_device device;
  uint64_t random = (static_cast<uint64_t>(device()) << 32) ^ device();
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(random));
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + suffix;
}

Dispatcher::Dispatcher(std::shared_ptr<store::Database> db, std::vector<DispatchTarget> targets,
                       DispatcherOptions options)
    : shared_(std::make_shared<Shared>(std::move(db), std::move(targets), std::move(options))) {}

Dispatcher::~Dispatcher() { Stop(); }

const std::string& Dispatcher::owner_id() const { return shared_->queue.owner(); }

Status Dispatcher::Start() {
  if (started_) return Error(ErrorCode::kConflict, "dispatcher already started");
  std::set<std::string> names;
  for (const auto& t : shared_->targets) {
    if (!t->target.adapter || t->name.empty()) {
      return Error(ErrorCode::kInvalidValue, "delivery target without an adapter or a name");
    }
    if (!names.insert(t->name).second) {
      return Error(ErrorCode::kInvalidValue, "duplicate delivery target name \"" + t->name + "\"");
    }
  }
  for (const auto& t : shared_->targets) {
    SCIM_RETURN_IF_ERROR(
        shared_->queue.EnsureCursor(t->name, std::string(t->target.adapter->Type())));
  }
  if (shared_->stopping.load()) {
    // Started before: threads left behind by that Stop() still see their `stopping` flag, so
    // the new run gets fresh shared state (same database, targets, options and owner id).
    std::vector<DispatchTarget> list;
    for (const auto& t : shared_->targets) list.push_back(t->target);
    DispatcherOptions options = shared_->options;
    options.owner_id = shared_->queue.owner();
    shared_ = std::make_shared<Shared>(shared_->db, std::move(list), std::move(options));
  }
  std::random_device device;
  auto launch = [&](const char* name, auto body) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    {
      std::lock_guard<std::mutex> lock(shared_->done_mu);
      ++shared_->running;
    }
    std::shared_ptr<Shared> shared = shared_;
    threads_.emplace_back([shared, done, body, name] {
      SetUpEngineThread(name, shared->options.niceness);
      body(*shared);
      shared->ThreadDone(done);
    });
    done_.push_back(done);
  };
  const int workers = std::max(1, shared_->options.workers_per_target);
  for (size_t i = 0; i < shared_->targets.size(); ++i) {
    for (int w = 0; w < workers; ++w) {
      uint64_t seed = (static_cast<uint64_t>(device()) << 32) ^ device();
      launch("scimd-deliver", [i, seed](Shared& s) { s.WorkerLoop(i, seed); });
    }
  }
  if (!shared_->targets.empty()) launch("scimd-housekeep", [](Shared& s) { s.HousekeepingLoop(); });
  if (shared_->options.delivered_days > 0 || shared_->options.audit_days > 0) {
    launch("scimd-retention", [](Shared& s) { s.RetentionLoop(); });
  }
  started_ = true;
  shared_->Log(LogLevel::kInfo, "delivery started for " + std::to_string(names.size()) +
                                    " target(s) as " + owner_id());
  return OkStatus();
}

void Dispatcher::Stop() {
  if (!started_) return;
  shared_->stopping.store(true);
  shared_->Wake();
  {
    std::unique_lock<std::mutex> lock(shared_->done_mu);
    shared_->done_cv.wait_for(lock, shared_->options.stop_timeout,
                              [&] { return shared_->running == 0; });
  }
  int left = 0;
  for (size_t i = 0; i < threads_.size(); ++i) {
    if (done_[i]->load()) {
      threads_[i].join();
    } else {
      threads_[i].detach();
      ++left;
    }
  }
  if (left > 0) {
    shared_->Log(LogLevel::kWarning, std::to_string(left) +
                                         " delivery thread(s) still inside a target call after " +
                                         std::to_string(shared_->options.stop_timeout.count()) +
                                         " ms; left behind (their leases will expire)");
  }
  threads_.clear();
  done_.clear();
  started_ = false;
}

void Dispatcher::Notify() { shared_->Wake(); }

Result<int> Dispatcher::RunOnce() {
  int total = 0;
  std::mt19937_64 rng(std::random_device{}());
  for (auto& t : shared_->targets) {
    if (!t->target.adapter) continue;
    SCIM_RETURN_IF_ERROR(
        shared_->queue.EnsureCursor(t->name, std::string(t->target.adapter->Type())));
    for (;;) {
      SCIM_TRY(auto fanned,
               shared_->queue.FanOut(*t->target.adapter, shared_->options.fan_out_batch));
      shared_->WarnMalformedGaps(t->name, fanned);
      if (!fanned.more) break;
    }
    SCIM_RETURN_IF_ERROR(shared_->queue.ReapExpired(t->name, t->target.retry));
    int claim_size = std::max(1, shared_->options.claim_batch);
    for (;;) {
      SCIM_TRY(auto pass, shared_->RunPass(*t, rng, claim_size));
      claim_size = shared_->NextClaimSize(claim_size, pass.full);
      total += pass.delivered;
      if (!pass.more) break;
    }
  }
  return total;
}

}  // namespace scim::delivery
