#!/usr/bin/python3
"""Checks scimd's module boundaries (docs/architecture.md) against the code and the build.

Usage: check_boundaries.py [ROOT]   (ROOT: the repository, default: two levels up from here)
Prints one line per violation and exits 1 when there is any, 0 otherwise.

What is checked, from the tables below:
  includes   Every #include in src/<m>/, include/scim/<m>/ and tests/<m>/ (a module's unit tests)
             is resolved against the tree:
             - "<x>/..." found in src/<x>/ is module x's private header: only module x (its
               sources and its tests) may include it;
             - "scim/<x>/..." is module x's public header: only x and the modules that depend on
               x, directly or through others (MODULES), may include it;
             - <lib/...> of a library in LIBRARIES: only its owner modules may include it (and the
               modules depending on an owner that exposes it in its public headers), and a public
               header only when the table says the library is part of the owner's interface;
             - a quoted include that resolves nowhere is reported too (so a moved header is not
               silently skipped); other <...> includes are the system's and the standard library.
  cmake      The scim_module(...) calls in CMakeLists.txt: each module's scim_* dependencies are
             exactly the ones in MODULES; a library's CMake target appears only in its owner's
             call; a PUBLIC dependency is one the module's public headers need (they include it,
             or something only it brings); and no CMake file puts src/ as a whole on an include
             path.
Files in tests/ outside a module's folder (support fixtures, fuzz targets, benchmarks) are not
checked: they are test harness, not modules.
"""

import os
import re
import sys

# module -> the modules it depends on directly (its `knows` column in docs/architecture.md).
# The order is the dependency order; a module may use every module it reaches through these.
MODULES = {
    "common": [],
    "schema": ["common"],
    "filter": ["schema"],
    "patch": ["filter", "schema"],
    "auth": ["common"],
    "events": ["common"],
    "store": ["filter", "events", "auth"],
    "adapters": ["events"],
    "delivery": ["store", "adapters"],
    "service": ["store", "patch"],
    "http": ["service"],
    "app": ["http", "delivery"],
}

# library -> its include prefixes, its CMake targets, the modules that own it, and whether an
# owner exposes it in its public headers (then the modules depending on that owner may use it
# too: RapidJSON is the value type of scim/common/json.h).
LIBRARIES = {
    "SOCI": {"includes": ["soci/"], "targets": ["soci_all"], "owners": ["store"]},
    "SQLite/libpq": {"includes": ["sqlite3.h", "libpq-fe.h", "postgresql/"], "targets": [],
                     "owners": ["store"]},
    "Pistache": {"includes": ["pistache/"], "targets": ["PkgConfig::PISTACHE"], "owners": ["http"]},
    "libcurl": {"includes": ["curl/"], "targets": ["CURL::libcurl"], "owners": ["adapters"]},
    "yaml-cpp": {"includes": ["yaml-cpp/"], "targets": ["yaml-cpp"], "owners": ["app"]},
    "CLI11": {"includes": ["CLI/"], "targets": ["CLI11::CLI11"], "owners": ["app"]},
    # Every module logs through scim/common/log.h; spdlog is behind it, in src/common/log.cc.
    "spdlog": {"includes": ["spdlog/"], "targets": ["spdlog::spdlog"], "owners": ["common"]},
    "fmt": {"includes": ["fmt/"], "targets": ["fmt::fmt"], "owners": ["common"]},
    # Hashes and tokens (auth), the store's random ids, webhook signatures (adapters), TLS (http).
    "OpenSSL": {"includes": ["openssl/"], "targets": ["OpenSSL::Crypto", "OpenSSL::SSL"],
                "owners": ["auth", "store", "adapters", "http"]},
    "RapidJSON": {"includes": ["rapidjson/"], "targets": ["rapidjson_headers"],
                  "owners": ["common"], "public": True},
    # Boost.Test: the unit tests' framework (SOCI's Boost integration comes with soci_all).
    "Boost": {"includes": ["boost/"], "targets": ["Boost::headers", "Boost::unit_test_framework"],
              "owners": [], "tests": True},
}

# Known, dated exceptions: (path prefix, what is allowed, why). Keep this list short and empty it.
# (tests/delivery seeds store's tables through store's test support, tests/store/testing/.)
EXCEPTIONS = []

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
SOURCE_EXTENSIONS = (".h", ".hpp", ".cc", ".cpp")


def closure(module, modules):
    """Every module `module` reaches through its dependencies (itself included)."""
    seen, todo = set(), [module]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo.extend(modules.get(m, []))
    return seen


def library_of(header, libraries):
    for name, lib in libraries.items():
        for prefix in lib["includes"]:
            if header == prefix or (prefix.endswith("/") and header.startswith(prefix)):
                return name
    return None


def excepted(path, what, exceptions):
    return any(path.startswith(prefix) and what == allowed for prefix, allowed, _ in exceptions)


def owner_of_file(rel, modules):
    """(module, is_test) for a checked file, else None."""
    parts = rel.split("/")
    if len(parts) >= 3 and parts[0] == "src" and parts[1] in modules:
        return parts[1], False
    if len(parts) >= 4 and parts[0] == "include" and parts[1] == "scim" and parts[2] in modules:
        return parts[2], False
    if len(parts) >= 3 and parts[0] == "tests" and parts[1] in modules:
        return parts[1], True
    return None


def check_includes(root, modules, libraries, exceptions):
    problems = []
    for top in ("src", "include", "tests"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if not name.endswith(SOURCE_EXTENSIONS):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                owner = owner_of_file(rel, modules)
                if owner is None:
                    continue
                module, is_test = owner
                reach = closure(module, modules)
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                for bracket, header in INCLUDE_RE.findall(text):
                    close = ">" if bracket == "<" else '"'
                    where = f"{rel}: #include {bracket}{header}{close}"
                    lib = library_of(header, libraries)
                    if lib is not None:
                        spec = libraries[lib]
                        allowed = set(spec["owners"])
                        if spec.get("public"):
                            allowed = {m for m in modules
                                       if closure(m, modules) & set(spec["owners"])}
                        if is_test and spec.get("tests"):
                            continue
                        if module not in allowed and not excepted(rel, lib, exceptions):
                            problems.append(f"{where}: {lib} belongs to "
                                            f"{', '.join(spec['owners']) or 'the tests'}, "
                                            f"not to {module}")
                        elif rel.startswith("include/") and not spec.get("public"):
                            problems.append(f"{where}: a public header would hand {lib} to every "
                                            f"module depending on {module}")
                        continue
                    if bracket == "<":
                        continue  # the system's or the standard library's
                    if os.path.exists(os.path.join(dirpath, header)):
                        continue  # next to the including file
                    if is_test and os.path.exists(os.path.join(root, "tests", header)):
                        # A test fixture: the tests of a module may use those of the modules it
                        # depends on (store's test support in tests/store/testing/, say).
                        first = header.split("/")[0]
                        if first in modules and first not in reach:
                            problems.append(f"{where}: module {module} does not depend on {first}")
                        continue
                    first = header.split("/")[0]
                    if first in modules and os.path.exists(os.path.join(root, "src", header)):
                        if first != module and not excepted(rel, header, exceptions):
                            problems.append(f"{where}: private header of module {first}")
                        continue
                    m = re.match(r"scim/([^/]+)/", header)
                    if m and os.path.exists(os.path.join(root, "include", header)):
                        dep = m.group(1)
                        if dep in modules and dep not in reach:
                            problems.append(f"{where}: module {module} does not depend on {dep}")
                        continue
                    if header.startswith("scim/") and os.path.exists(os.path.join(root, "include",
                                                                                 header)):
                        continue  # generated-code headers such as scim/schema/embedded.h
                    problems.append(f"{where}: no such header in the tree")
    return problems


CALL_RE = re.compile(r"^\s*scim_module\(([^)]*)\)", re.M)


def parse_modules_cmake(text):
    """{module: {"public": [...], "private": [...]}} from the scim_module(...) calls."""
    calls = {}
    for body in CALL_RE.findall(text):
        words = body.split()
        name, section, out = words[0], "public", {"public": [], "private": []}
        for w in words[1:]:
            if w in ("PUBLIC", "PRIVATE", "DEPS"):
                section = "private" if w == "PRIVATE" else "public"
            else:
                out[section].append(w)
        calls[name] = out
    return calls


def public_header_needs(root, module, modules):
    """Modules whose public headers module's public headers include (itself excluded)."""
    needs = set()
    base = os.path.join(root, "include", "scim", module)
    for dirpath, _, files in os.walk(base):
        for name in files:
            with open(os.path.join(dirpath, name), encoding="utf-8", errors="replace") as f:
                for _, header in INCLUDE_RE.findall(f.read()):
                    m = re.match(r"scim/([^/]+)/", header)
                    if m and m.group(1) in modules and m.group(1) != module:
                        needs.add(m.group(1))
    return needs


def check_cmake(root, modules, libraries):
    problems = []
    lists = os.path.join(root, "CMakeLists.txt")
    with open(lists, encoding="utf-8") as f:
        calls = parse_modules_cmake(f.read())
    target_owner = {t: name for name, lib in libraries.items() for t in lib["targets"]}
    for module, deps in modules.items():
        if module not in calls:
            problems.append(f"CMakeLists.txt: no scim_module({module} ...)")
            continue
        call = calls[module]
        declared = {w[len("scim_"):] for w in call["public"] + call["private"]
                    if w.startswith("scim_") and w[len("scim_"):] in modules}
        if declared != set(deps):
            problems.append(f"CMakeLists.txt: scim_module({module}) depends on "
                            f"{sorted(declared)}, the table says {sorted(deps)}")
        for w in call["public"] + call["private"]:
            lib = target_owner.get(w)
            if lib and module not in libraries[lib]["owners"]:
                problems.append(f"CMakeLists.txt: scim_module({module}) links {w} ({lib}), "
                                f"which belongs to {', '.join(libraries[lib]['owners'])}")
        # PUBLIC only where a public header needs it: what the public headers include must be
        # reachable through PUBLIC edges, and each PUBLIC module dependency must carry some of it.
        needs = public_header_needs(root, module, modules)
        public_mods = [w[len("scim_"):] for w in call["public"]
                       if w.startswith("scim_") and w[len("scim_"):] in modules]

        def public_reach(m, seen=None):
            seen = set() if seen is None else seen
            if m in seen:
                return seen
            seen.add(m)
            c = calls.get(m, {"public": []})
            for w in c["public"]:
                if w.startswith("scim_") and w[len("scim_"):] in modules:
                    public_reach(w[len("scim_"):], seen)
            return seen

        carried = set()
        for p in public_mods:
            carried |= public_reach(p)
            if not public_reach(p) & needs:
                problems.append(f"CMakeLists.txt: scim_module({module}) links scim_{p} PUBLIC, "
                                f"but no public header of {module} needs it (make it PRIVATE)")
        for n in sorted(needs - carried):
            problems.append(f"include/scim/{module}/: the public headers include scim/{n}/, "
                            f"which scim_{module} does not pass on PUBLIC")
    for dirpath, _, files in os.walk(root):
        if "/build" in dirpath.replace(root, "") or "/." in dirpath.replace(root, ""):
            continue
        for name in files:
            if name != "CMakeLists.txt" and not name.endswith(".cmake"):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    if re.search(r"include_directories\(.*\$\{PROJECT_SOURCE_DIR\}/src[ )]", line):
                        rel = os.path.relpath(path, root)
                        problems.append(f"{rel}:{lineno}: src/ as a whole on an include path")
    return problems


def check(root, modules=MODULES, libraries=LIBRARIES, exceptions=EXCEPTIONS):
    return (check_includes(root, modules, libraries, exceptions) +
            check_cmake(root, modules, libraries))


def main(argv):
    root = os.path.abspath(argv[1] if len(argv) > 1 else
                           os.path.join(os.path.dirname(__file__), "..", ".."))
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"check_boundaries: {len(problems)} violation(s)")
        return 1
    print("check_boundaries: module boundaries hold")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
