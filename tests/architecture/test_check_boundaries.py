"""The boundary check can fail: each kind of violation, planted in a tiny fake tree, is reported,
and the same tree without it passes."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_boundaries as cb  # noqa: E402

MODULES = {"base": [], "mid": ["base"], "top": ["mid"], "side": ["base"]}
LIBRARIES = {
    "Db": {"includes": ["db/"], "targets": ["db_lib"], "owners": ["mid"]},
    "Json": {"includes": ["json/"], "targets": ["json_lib"], "owners": ["base"], "public": True},
    "Boost": {"includes": ["boost/"], "targets": [], "owners": [], "tests": True},
}

CLEAN = {
    "CMakeLists.txt": (
        "scim_module(base PUBLIC json_lib)\n"
        "scim_module(mid PUBLIC scim_base PRIVATE db_lib)\n"
        "scim_module(top PUBLIC scim_mid)\n"
        "scim_module(side PRIVATE scim_base)\n"),
    "include/scim/base/value.h": "#pragma once\n#include <json/doc.h>\n#include <string>\n",
    "include/scim/mid/store.h": '#pragma once\n#include "scim/base/value.h"\n',
    "include/scim/top/api.h": '#pragma once\n#include "scim/mid/store.h"\n',
    "src/base/value.cc": '#include "scim/base/value.h"\n',
    "src/mid/store.cc": ('#include "scim/mid/store.h"\n#include <db/db.h>\n'
                         '#include "mid/rows.h"\n#include <json/writer.h>\n'),
    "src/mid/rows.h": "#pragma once\n",
    "src/top/api.cc": '#include "scim/top/api.h"\n#include "scim/base/value.h"\n',
    "src/side/side.cc": '#include "scim/base/value.h"\n#include <unistd.h>\n',
    "tests/mid/store_test.cc": ('#include <boost/test/unit_test.hpp>\n#include <db/db.h>\n'
                                '#include "mid/rows.h"\n#include "support/fixture.h"\n'),
    "tests/support/fixture.h": "#pragma once\n",
    "tests/mid/testing/seed.h": "#pragma once\n",
    "tests/top/api_test.cc": '#include "mid/testing/seed.h"\n',
    "tests/CMakeLists.txt": "target_include_directories(t PRIVATE ${PRIVATE_DIR})\n",
}


def make_tree(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


class CheckBoundariesTest(unittest.TestCase):
    def problems(self, changes, exceptions=()):
        files = dict(CLEAN)
        files.update(changes)
        with tempfile.TemporaryDirectory() as root:
            make_tree(root, files)
            return cb.check(root, MODULES, LIBRARIES, list(exceptions))

    def assertReported(self, changes, *fragments):
        problems = self.problems(changes)
        self.assertTrue(problems, "nothing reported")
        for fragment in fragments:
            self.assertTrue(any(fragment in p for p in problems), (fragment, problems))

    def test_clean_tree_passes(self):
        self.assertEqual(self.problems({}), [])

    def test_private_header_of_another_module(self):
        self.assertReported({"src/top/api.cc": '#include "mid/rows.h"\n'},
                            "src/top/api.cc", "private header of module mid")

    def test_private_header_from_another_modules_tests(self):
        self.assertReported({"tests/top/api_test.cc": '#include "mid/rows.h"\n'},
                            "tests/top/api_test.cc", "private header of module mid")

    def test_test_fixture_of_a_module_outside_dependencies(self):
        self.assertReported({"tests/side/side_test.cc": '#include "mid/testing/seed.h"\n'},
                            "tests/side/side_test.cc", "module side does not depend on mid")

    def test_module_outside_dependencies(self):
        self.assertReported({"src/side/side.cc": '#include "scim/mid/store.h"\n'},
                            "src/side/side.cc", "module side does not depend on mid")

    def test_library_outside_its_owner(self):
        self.assertReported({"src/top/api.cc": "#include <db/db.h>\n"},
                            "src/top/api.cc", "Db belongs to mid, not to top")

    def test_library_in_a_public_header(self):
        self.assertReported({"include/scim/mid/store.h": "#pragma once\n#include <db/db.h>\n"},
                            "include/scim/mid/store.h", "a public header would hand Db")

    def test_public_library_reaches_dependents(self):
        self.assertEqual(self.problems({"src/top/api.cc": "#include <json/doc.h>\n"}), [])

    def test_unknown_quoted_header(self):
        self.assertReported({"src/top/api.cc": '#include "gone/away.h"\n'}, "no such header")

    def test_cmake_dependencies_differ_from_table(self):
        cmake = CLEAN["CMakeLists.txt"].replace("scim_module(top PUBLIC scim_mid)",
                                                "scim_module(top PUBLIC scim_mid scim_side)")
        self.assertReported({"CMakeLists.txt": cmake}, "scim_module(top) depends on")

    def test_cmake_library_outside_its_owner(self):
        cmake = CLEAN["CMakeLists.txt"].replace("scim_module(top PUBLIC scim_mid)",
                                                "scim_module(top PUBLIC scim_mid PRIVATE db_lib)")
        self.assertReported({"CMakeLists.txt": cmake}, "links db_lib (Db)")

    def test_cmake_public_dependency_no_header_needs(self):
        cmake = CLEAN["CMakeLists.txt"].replace("scim_module(side PRIVATE scim_base)",
                                                "scim_module(side PUBLIC scim_base)")
        self.assertReported({"CMakeLists.txt": cmake}, "no public header of side needs it")

    def test_cmake_private_dependency_a_header_needs(self):
        cmake = CLEAN["CMakeLists.txt"].replace("scim_module(top PUBLIC scim_mid)",
                                                "scim_module(top PRIVATE scim_mid)")
        self.assertReported({"CMakeLists.txt": cmake}, "does not pass on PUBLIC")

    def test_src_on_an_include_path(self):
        self.assertReported(
            {"tests/CMakeLists.txt": "target_include_directories(t PRIVATE ${PROJECT_SOURCE_DIR}/src)\n"},
            "src/ as a whole on an include path")

    def test_exception_silences_one_violation(self):
        changes = {"src/top/api.cc": "#include <db/db.h>\n"}
        self.assertEqual(self.problems(changes, [("src/top/", "Db", "reason")]), [])

    def test_command_line_exit_status(self):
        files = dict(CLEAN)
        files["src/top/api.cc"] = '#include "mid/rows.h"\n'
        with tempfile.TemporaryDirectory() as root:
            make_tree(root, files)
            # The real tables do not know this tree's modules, so drive main() through a copy of
            # the script whose tables are the fake ones.
            script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                  "check_boundaries.py")
            code = ("import sys; sys.path.insert(0, %r); import check_boundaries as cb; "
                    "import test_check_boundaries as t; cb.MODULES.clear(); "
                    "cb.MODULES.update(t.MODULES); cb.LIBRARIES.clear(); "
                    "cb.LIBRARIES.update(t.LIBRARIES); cb.EXCEPTIONS.clear(); "
                    "sys.exit(cb.main(['x', %r]))" % (os.path.dirname(script), root))
            run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
            self.assertIn("private header of module mid", run.stdout)


if __name__ == "__main__":
    unittest.main()
