#!/usr/bin/env bash
# Everything CI checks, in order (.ci/run calls this):
#   deps        deploy/install_deps.sh (quiet when nothing is missing)
#   build       Release build in build/
#   test        ctest in build/: unit tests, and the black-box tests on SQLite and on a throwaway
#               PostgreSQL cluster
#   image       tests/deploy/check_deploy.sh: the container image from build/scimd (no second
#               compile) run over HTTPS with a SCIM request through it, the systemd unit
#               (systemd-analyze), the compose and Kubernetes manifests; installs podman and
#               mmdebstrap when missing, caches the bootstrapped base in /var/cache/scimd-container
#   asan-build  the unit tests again with -DSCIMD_SANITIZE=ON (ASan + UBSan) in build-asan/
#   asan-test   ctest -L unit in build-asan/, leaks detected, UB fatal
#   fuzz-build  if tests/fuzz/CMakeLists.txt exists: the fuzz_* targets with clang in build-fuzz/
#   fuzz        each fuzz_* binary for FUZZ_SECONDS (default 60) over a temp copy of
#               tests/fuzz/corpus/<name>/, two at a time
# Promises: runs every phase it can even after a failure (a phase whose input failed is
# skipped), prints a summary with the time of each phase and a closing line
# "tests: N passed, M failed", and exits non-zero if any phase failed. The repository is not
# modified outside build*/ (fuzz crash inputs land in build-fuzz/artifacts/<time>/).
#
# Knobs (environment): JOBS (default 2), FUZZ_SECONDS (default 60), RUN_ALL_SKIP (comma list of
# phases to skip, e.g. "asan-build,asan-test,fuzz-build,fuzz" for a quick local run).
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) fails the script too

cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=${JOBS:-2}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
RUN_ALL_SKIP=${RUN_ALL_SKIP:-}
ARTIFACTS="$ROOT/build-fuzz/artifacts/$(date +%Y%m%d-%H%M%S)"  # crash inputs of this run
WORK=$(mktemp -d /tmp/scimd-run-all.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

PHASES=()     # phase names, in the order they ran
RESULTS=()    # PASS / FAIL / SKIP
SECONDS_OF=() # wall seconds per phase
echo 0 >"$WORK/passed"
echo 0 >"$WORK/failed"

log() { printf '\n=== run_all: %s\n' "$*"; }

# phase NAME FUNCTION: runs FUNCTION in a subshell with `set -e` in force, times it, records
# PASS or FAIL. A phase named in RUN_ALL_SKIP is recorded as SKIP.
phase() {
  local name=$1 fn=$2 start rc
  if [[ ",$RUN_ALL_SKIP," == *",$name,"* ]]; then
    record "$name" SKIP 0
    return 0
  fi
  log "$name"
  start=$(date +%s.%N)
  set +e
  (set -e; "$fn")
  rc=$?
  set -e
  record "$name" "$([[ $rc -eq 0 ]] && echo PASS || echo FAIL)" \
    "$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')"
}

record() {
  PHASES+=("$1")
  RESULTS+=("$2")
  SECONDS_OF+=("$3")
}

# Succeeds when phase NAME ran and passed.
passed() {
  local i
  for i in "${!PHASES[@]}"; do
    [[ "${PHASES[$i]}" == "$1" && "${RESULTS[$i]}" == PASS ]] && return 0
  done
  return 1
}

# add_counts PASSED FAILED: adds to the totals of the closing line.
add_counts() {
  echo $(($(cat "$WORK/passed") + $1)) >"$WORK/passed"
  echo $(($(cat "$WORK/failed") + $2)) >"$WORK/failed"
}

# run_ctest LOGNAME ARGS...: runs ctest with ARGS, output to the terminal and to a log; adds the
# counts of its closing line ("N% tests passed, F tests failed out of T") to the totals.
run_ctest() {
  local logfile="$WORK/$1.log" rc line total failed
  shift
  set +e
  ctest "$@" 2>&1 | tee "$logfile"
  rc=${PIPESTATUS[0]}
  set -e
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$logfile" | tail -n 1 || true)
  if [[ -n "$line" ]]; then
    failed=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
    add_counts $((total - failed)) "$failed"
  fi
  return "$rc"
}

# build_targets DIR PATTERN: builds the targets of DIR whose names match the ERE PATTERN (as the
# build tool's help lists them), or everything when none is listed.
build_targets() {
  local dir=$1 pattern=$2 targets
  mapfile -t targets < <(cmake --build "$dir" --target help 2>/dev/null |
    sed -nE 's/^\.\.\. ([A-Za-z0-9_]+).*/\1/p' | grep -E "$pattern" || true)
  if [[ ${#targets[@]} -eq 0 ]]; then
    cmake --build "$dir" -j "$JOBS"
  else
    cmake --build "$dir" -j "$JOBS" --target "${targets[@]}"
  fi
}

# --- the phases -------------------------------------------------------------------------------

deps() {
  bash deploy/install_deps.sh
}

build_release() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
  cmake --build build -j "$JOBS"
}

test_release() {
  run_ctest release --test-dir build --output-on-failure -j "$JOBS" --no-tests=error
}

# Starts the image phase's slow, binary-independent part (packages, and bootstrapping the base
# image with mmdebstrap: minutes on a clean machine) in the background, so it overlaps the
# build; image_check waits for it. Its output: $WORK/image-prepare.log, its exit status:
# $WORK/image-prepare.rc (a file, because phases run in subshells, which cannot `wait` for a
# job of the main shell).
PREPARE_PID=
prepare_image() {
  [[ ",$RUN_ALL_SKIP," == *,image,* ]] && return 0
  rm -f "$WORK/image-prepare.rc"
  (
    set +e
    bash tests/deploy/check_deploy.sh --prepare >"$WORK/image-prepare.log" 2>&1
    echo $? >"$WORK/image-prepare.rc"
  ) &
  PREPARE_PID=$!
}

image_check() {
  if [[ -n "$PREPARE_PID" ]]; then
    echo "image: waiting for the background preparation (packages, base image)"
    while [[ ! -s "$WORK/image-prepare.rc" ]] && kill -0 "$PREPARE_PID" 2>/dev/null; do sleep 1; done
    if [[ "$(cat "$WORK/image-prepare.rc" 2>/dev/null)" != 0 ]]; then
      echo "image: the background preparation failed (trying again now):" >&2
      tail -n 20 "$WORK/image-prepare.log" >&2
    fi
  fi
  if bash tests/deploy/check_deploy.sh; then
    add_counts 1 0
  else
    add_counts 0 1
    return 1
  fi
}

build_asan() {
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSCIMD_SANITIZE=ON -DSCIMD_TESTS=ON
  build_targets build-asan '^unit_'
}

test_asan() {
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest asan --test-dir build-asan -L unit --output-on-failure -j "$JOBS" --no-tests=ignore
}

build_fuzz() {
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSCIMD_FUZZ=ON -DSCIMD_TESTS=OFF
  build_targets build-fuzz '^fuzz_'
}

# run_fuzzer BINARY: runs one libFuzzer binary fuzz_<name> for FUZZ_SECONDS over a temp copy of
# its seeds tests/fuzz/corpus/<name>/ (and tests/fuzz/fuzz_<name>.dict if present); its output
# goes to $WORK/fuzz-fuzz_<name>.log.
run_fuzzer() {
  local bin=$1 name corpus dict_args=()
  name=$(basename "$bin")
  corpus="$WORK/corpus-$name"
  mkdir -p "$corpus" "$ARTIFACTS"
  if [[ -d "tests/fuzz/corpus/${name#fuzz_}" ]]; then
    cp -r "tests/fuzz/corpus/${name#fuzz_}/." "$corpus/"
  else
    echo "run_fuzzer: no seed corpus tests/fuzz/corpus/${name#fuzz_}/" >&2
    return 1
  fi
  if [[ -f "tests/fuzz/$name.dict" ]]; then
    dict_args=("-dict=tests/fuzz/$name.dict")
  fi
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$ARTIFACTS/$name-" "${dict_args[@]}" "$corpus" \
    >"$WORK/fuzz-$name.log" 2>&1
}

fuzz() {
  local bins bin pid name failed=0 passed=0
  declare -A names=()
  mapfile -t bins < <(find build-fuzz -type f -perm -u+x -name 'fuzz_*' ! -path '*/CMakeFiles/*' | sort)
  if [[ ${#bins[@]} -eq 0 ]]; then
    echo "no fuzz_* binaries in build-fuzz/"
    return 1
  fi
  # JOBS at a time; each finished fuzzer reports its last lines.
  for bin in "${bins[@]}"; do
    while [[ $(jobs -rp | wc -l) -ge $JOBS ]]; do
      sleep 1
    done
    echo "fuzzing $(basename "$bin") for ${FUZZ_SECONDS}s"
    run_fuzzer "$bin" &
    names[$!]=$(basename "$bin")
  done
  for pid in "${!names[@]}"; do
    name=${names[$pid]}
    if wait "$pid"; then
      passed=$((passed + 1))
      echo "fuzz $name: OK ($(grep -E '^Done [0-9]+ runs' "$WORK/fuzz-$name.log" | tail -n 1))"
    else
      failed=$((failed + 1))
      echo "fuzz $name: FAILED; last lines of its log:"
      tail -n 40 "$WORK/fuzz-$name.log"
      find "$ARTIFACTS" -name "$name-*" -printf "  crash input: %p\n" 2>/dev/null || true
    fi
  done
  add_counts "$passed" "$failed"
  [[ $failed -eq 0 ]]
}

# --- main -------------------------------------------------------------------------------------

summary() {
  local i total=0 any_failed=0
  printf '\n=== run_all: summary\n'
  printf '%-12s %-5s %9s\n' phase result seconds
  for i in "${!PHASES[@]}"; do
    printf '%-12s %-5s %9s\n' "${PHASES[$i]}" "${RESULTS[$i]}" "${SECONDS_OF[$i]}"
    total=$(awk -v a="$total" -v b="${SECONDS_OF[$i]}" 'BEGIN { printf "%.1f", a + b }')
    [[ "${RESULTS[$i]}" == FAIL ]] && any_failed=1
  done
  printf '%-12s %-5s %9s\n' total "$([[ $any_failed -eq 0 ]] && echo PASS || echo FAIL)" "$total"
  echo "tests: $(cat "$WORK/passed") passed, $(cat "$WORK/failed") failed"
  return "$any_failed"
}

# skip_unless PHASE NEEDED: records PHASE as SKIP when phase NEEDED did not pass.
skip_unless() {
  if passed "$2"; then
    return 1
  fi
  record "$1" SKIP 0
}

main() {
  phase deps deps
  prepare_image
  phase build build_release
  skip_unless test build || phase test test_release
  skip_unless image build || phase image image_check
  if [[ -n "$PREPARE_PID" ]]; then wait "$PREPARE_PID" 2>/dev/null || true; fi
  phase asan-build build_asan
  skip_unless asan-test asan-build || phase asan-test test_asan
  if [[ -f tests/fuzz/CMakeLists.txt ]]; then
    phase fuzz-build build_fuzz
    skip_unless fuzz fuzz-build || phase fuzz fuzz
  fi
  summary
}

main "$@"
