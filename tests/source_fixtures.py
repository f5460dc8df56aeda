"""Small Kattis and Polygon packages written on the fly, in each format's real layout.

``MINI_TESTLIB`` is a tiny header compatible with the part of testlib the fixtures use (it is
ours, not testlib.h): the importers must take the header from the package's ``files/``.
"""

from __future__ import annotations

import os
from pathlib import Path


def write(root: Path, files: dict[str, str]) -> Path:
    """Write ``{relative path: text}`` under ``root``."""
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def link(root: Path, rel: str, target: str) -> None:
    """A relative symlink ``root/rel -> target`` (as Kattis testdata_tools makes for shared tests)."""
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, p)


SUM_CPP = "#include <cstdio>\nint main(){long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",a+b);}\n"
# Right on small inputs, one too many when a > 100.
SUM_OFF_CPP = ("#include <cstdio>\nint main(){long long a,b;scanf(\"%lld %lld\",&a,&b);"
               "printf(\"%lld\\n\",a+b+(a>100));}\n")
SUM_WRONG_PY = "a, b = map(int, input().split())\nprint(a - b)\n"

# A Kattis output validator: exact answer accepted; off by one accepted with half the score
# (score_multiplier.txt) when the flag "partial" is given; else rejected.
KATTIS_VALIDATOR = r"""
#include <cstdio>
#include <cstring>
#include <string>
int main(int argc, char** argv) {
    FILE* ans = fopen(argv[2], "r");
    long long want, got;
    if (!ans || fscanf(ans, "%lld", &want) != 1) return 1;
    bool partial = false;
    for (int i = 4; i < argc; i++) if (!strcmp(argv[i], "partial")) partial = true;
    std::string fb = argv[3];
    if (scanf("%lld", &got) != 1) {
        FILE* m = fopen((fb + "judgemessage.txt").c_str(), "w"); fputs("no number\n", m); fclose(m);
        return 43;
    }
    if (got == want) return 42;
    if (partial && got == want + 1) {
        FILE* s = fopen((fb + "score_multiplier.txt").c_str(), "w"); fputs("0.5\n", s); fclose(s);
        return 42;
    }
    FILE* m = fopen((fb + "judgemessage.txt").c_str(), "w");
    fprintf(m, "expected %lld got %lld\n", want, got); fclose(m);
    return 43;
}
"""

# The same validator in Python (Kattis validators are often Python).
KATTIS_VALIDATOR_PY = """import sys
want = int(open(sys.argv[2]).read().split()[0])
feedback = sys.argv[3]
try:
    got = int(sys.stdin.read().split()[0])
except (ValueError, IndexError):
    open(feedback + "judgemessage.txt", "w").write("no number\\n")
    sys.exit(43)
if got == want:
    sys.exit(42)
if "partial" in sys.argv[4:] and got == want + 1:
    open(feedback + "score_multiplier.txt", "w").write("0.5\\n")
    sys.exit(42)
open(feedback + "judgemessage.txt", "w").write(f"expected {want} got {got}\\n")
sys.exit(43)
"""

# A Kattis interactive validator: the secret is in the input file; answers <, > or = to guesses.
KATTIS_INTERACTOR = r"""
#include <cstdio>
int main(int argc, char** argv) {
    FILE* in = fopen(argv[1], "r");
    int secret, guess;
    if (!in || fscanf(in, "%d", &secret) != 1) return 1;
    for (int q = 0; q < 20; q++) {
        if (scanf("%d", &guess) != 1) return 43;
        if (guess == secret) { printf("=\n"); fflush(stdout); return 42; }
        printf(guess < secret ? "<\n" : ">\n"); fflush(stdout);
    }
    return 43;
}
"""
GUESS_CPP = r"""
#include <cstdio>
int main() {
    int lo = 1, hi = 1000;
    while (true) {
        int mid = (lo + hi) / 2; char r[4];
        printf("%d\n", mid); fflush(stdout);
        if (scanf("%3s", r) != 1) return 0;
        if (r[0] == '=') return 0;
        if (r[0] == '<') lo = mid + 1; else hi = mid - 1;
    }
}
"""
GUESS_LINEAR_CPP = r"""
#include <cstdio>
int main() {
    for (int g = 1; g <= 1000; g++) {
        char r[4]; printf("%d\n", g); fflush(stdout);
        if (scanf("%3s", r) != 1 || r[0] == '=') return 0;
    }
}
"""


def kattis_passfail(root: Path) -> Path:
    """Legacy pass-fail a/b with a float tolerance; one secret test is a symlink to a shared file."""
    write(root, {
        "problem.yaml": "name: Divide\nvalidator_flags: float_tolerance 1e-6\n",
        ".timelimit": "1\n",
        "problem_statement/problem.en.tex": "\\problemname{Divide}\nPrint $a/b$.\n",
        "data/sample/1.in": "1 2\n", "data/sample/1.ans": "0.5\n",
        "data/secret/01.in": "10 4\n", "data/secret/01.ans": "2.5\n",
        "data/shared/big.in": "1 3\n", "data/shared/big.ans": "0.333333333\n",
        "submissions/accepted/div.cpp": "#include <cstdio>\nint main(){double a,b;scanf(\"%lf %lf\",&a,&b);"
                                         "printf(\"%.9f\\n\",a/b);}\n",
        "submissions/wrong_answer/intdiv.py": "a, b = map(int, input().split())\nprint(a // b)\n",
    })
    link(root, "data/secret/02.in", "../shared/big.in")
    link(root, "data/secret/02.ans", "../shared/big.ans")
    return root


def kattis_legacy_groups(root: Path) -> Path:
    """Legacy IOI-style scoring (testdata_tools layout): two groups, a custom validator, symlinks."""
    write(root, {
        "problem.yaml": "name: Sum groups\ntype: scoring\nvalidation: custom\n",
        ".timelimit": "1\n",
        "output_validators/check/validate.cpp": KATTIS_VALIDATOR,
        "data/testdata.yaml": "range: 0 100\non_reject: continue\ngrader_flags: always_accept\n",
        "data/secret/testdata.yaml": "on_reject: continue\nrange: 0 100\n",
        "data/sample/1.in": "1 2\n", "data/sample/1.ans": "3\n",
        "data/secret/g1/testdata.yaml": "on_reject: break\naccept_score: 30\nrange: 0 30\ngrader_flags: min\n",
        "data/secret/g1/001-a.in": "5 6\n", "data/secret/g1/001-a.ans": "11\n",
        "data/secret/g1/002-b.in": "7 8\n", "data/secret/g1/002-b.ans": "15\n",
        "data/secret/g2/testdata.yaml": "on_reject: break\naccept_score: 70\nrange: 0 70\ngrader_flags: min\n"
                                        "output_validator_flags: partial\n",
        "data/secret/g2/003-big.in": "1000 1\n", "data/secret/g2/003-big.ans": "1001\n",
        "submissions/accepted/sum.cpp": SUM_CPP,
        "submissions/partially_accepted/off.cpp": SUM_OFF_CPP,
    })
    # The small tests are part of g2 too, as symlinks (testdata_tools' include_group).
    link(root, "data/secret/g2/001-a.in", "../g1/001-a.in")
    link(root, "data/secret/g2/001-a.ans", "../g1/001-a.ans")
    return root


def kattis_2025_groups(root: Path) -> Path:
    """2025-09 scoring: test_group.yaml max_score/score_aggregation/require_pass, output_validator/."""
    write(root, {
        "problem.yaml": "problem_format_version: 2025-09\nname: {en: Sum 2025}\nuuid: x\ntype: scoring\n"
                        "limits: {time_limit: 1.5, memory: 512}\n",
        "output_validator/validate.cpp": KATTIS_VALIDATOR,
        "data/sample/1.in": "1 2\n", "data/sample/1.ans": "3\n",
        "data/secret/test_group.yaml": "max_score: 100\n",
        "data/secret/group1/test_group.yaml": "max_score: 40\n",
        "data/secret/group1/1.in": "5 6\n", "data/secret/group1/1.ans": "11\n",
        "data/secret/group2/test_group.yaml": "max_score: 60\nscore_aggregation: min\nrequire_pass: secret/group1\n"
                                             "output_validator_args: [partial]\n",
        "data/secret/group2/1.in": "500 1\n", "data/secret/group2/1.ans": "501\n",
        "data/secret/group2/2.in": "700 2\n", "data/secret/group2/2.ans": "702\n",
    })
    return root


def kattis_interactive(root: Path) -> Path:
    """2023-07 interactive guessing game (the validator talks to the submission)."""
    write(root, {
        "problem.yaml": "problem_format_version: 2023-07-draft\nname: Guess\nuuid: y\ntype: interactive\n"
                        "limits: {time_limit: 1}\n",
        "output_validator/guess.cpp": KATTIS_INTERACTOR,
        "data/sample/1.in": "500\n", "data/sample/1.ans": "\n",
        "data/secret/1.in": "1\n", "data/secret/1.ans": "\n",
        "data/secret/2.in": "777\n", "data/secret/2.ans": "\n",
        "submissions/accepted/bsearch.cpp": GUESS_CPP,
        "submissions/wrong_answer/linear.cpp": GUESS_LINEAR_CPP,
    })
    return root


def kattis_grader(root: Path) -> Path:
    """Legacy pass-fail with an ``include/cpp`` grader: submissions implement ``add``."""
    write(root, {
        "problem.yaml": "name: Add\nvalidation: default\nvalidator_flags: case_sensitive\n",
        ".timelimit": "1\n",
        "include/cpp/grader.cpp": "#include <cstdio>\n#include \"add.h\"\nint main(){long long a,b;"
                                  "scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",add(a,b));}\n",
        "include/cpp/add.h": "long long add(long long a, long long b);\n",
        "data/secret/1.in": "2 3\n", "data/secret/1.ans": "5\n",
        "submissions/accepted/add.cpp": "#include \"add.h\"\nlong long add(long long a, long long b){return a+b;}\n",
    })
    return root


MINI_TESTLIB = r"""
// A tiny stand-in for the part of testlib.h these fixtures use (not testlib itself).
#pragma once
#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
enum TResult { _ok = 0, _wa = 1, _pe = 2, _fail = 3 };
inline void quitf(TResult r, const char* fmt, ...) {
    va_list ap; va_start(ap, fmt); vfprintf(stderr, fmt, ap); va_end(ap); fputc('\n', stderr); exit(r);
}
inline void quitp(double p, const char* msg) { fprintf(stderr, "points %.6f %s\n", p, msg); exit(7); }
struct InStream {
    FILE* f = nullptr; TResult on_error = _fail;
    long long readLong() {
        long long x; if (!f || fscanf(f, "%lld", &x) != 1) quitf(on_error, "expected a number"); return x;
    }
    int readInt() { return (int)readLong(); }
    bool seekEof() {
        int c; while ((c = fgetc(f)) != EOF) if (!isspace(c)) { ungetc(c, f); return false; } return true;
    }
};
static InStream inf, ouf, ans;
static FILE* tout = nullptr;
inline void registerTestlibCmd(int argc, char** argv) {
    if (argc < 4) quitf(_fail, "usage: check input output answer");
    inf.f = fopen(argv[1], "r"); ouf.f = fopen(argv[2], "r"); ans.f = fopen(argv[3], "r"); ouf.on_error = _pe;
}
inline void registerInteraction(int argc, char** argv) {
    if (argc < 3) quitf(_fail, "usage: interactor input output");
    inf.f = fopen(argv[1], "r"); tout = fopen(argv[2], "w"); ouf.f = stdin; ouf.on_error = _wa;
}
"""

POLYGON_CHECKER = r"""
#include "testlib.h"
int main(int argc, char** argv) {
    registerTestlibCmd(argc, argv);
    long long want = ans.readLong(), got = ouf.readLong();
    if (!ouf.seekEof()) quitf(_pe, "extra output");
    if (got != want) quitf(_wa, "expected %lld, found %lld", want, got);
    quitf(_ok, "answer is %lld", got);
}
"""

POLYGON_INTERACTOR = r"""
#include "testlib.h"
int main(int argc, char** argv) {
    registerInteraction(argc, argv);
    int secret = inf.readInt();
    for (int q = 1; q <= 20; q++) {
        int g = ouf.readInt();
        if (g == secret) { printf("=\n"); fflush(stdout); fprintf(tout, "%d\n", q); fclose(tout); quitf(_ok, "found"); }
        printf(g < secret ? "<\n" : ">\n"); fflush(stdout);
    }
    quitf(_wa, "too many guesses");
}
"""
# The Polygon checker of the interactive problem judges the interactor's output (queries used).
POLYGON_TOUT_CHECKER = r"""
#include "testlib.h"
int main(int argc, char** argv) {
    registerTestlibCmd(argc, argv);
    int queries = ouf.readInt();
    if (queries > 10) quitf(_wa, "%d queries", queries);
    quitf(_ok, "%d queries", queries);
}
"""


def _problem_xml(tests: str, groups: str, count: int, extra: str = "", assets: str = "", resources: str = "") -> str:
    return f"""<?xml version="1.0" encoding="utf-8" standalone="no"?>
<problem revision="3" short-name="{{code}}" url="https://polygon.codeforces.com/p/x/{{code}}">
  <names><name language="english" value="{{name}}"/></names>
  <judging cpu-name="Intel" cpu-speed="3600" input-file="" output-file="">
    <testset name="tests">
      <time-limit>1500</time-limit>
      <memory-limit>268435456</memory-limit>
      <test-count>{count}</test-count>
      <input-path-pattern>tests/%02d</input-path-pattern>
      <answer-path-pattern>tests/%02d.a</answer-path-pattern>
      <tests>{tests}</tests>
      {groups}
    </testset>
    {extra}
  </judging>
  <files><resources><file path="files/testlib.h" type="h.g++"/>{resources}</resources></files>
  <assets>{assets}</assets>
</problem>
"""


def polygon_full(root: Path, code: str = "psum") -> Path:
    """A full Polygon package: stored tests, groups with points and dependencies, testlib checker."""
    tests = """
        <test method="manual" sample="true" group="samples" points="0"/>
        <test method="generated" cmd="gen 5 6" group="small" points="0"/>
        <test method="generated" cmd="gen 7 8" group="small" points="0"/>
        <test method="generated" cmd="gen 500 1" group="large" points="30"/>
        <test method="generated" cmd="gen 700 2" group="large" points="30"/>"""
    groups = """<groups>
        <group feedback-policy="complete" name="samples" points="0" points-policy="complete-group"/>
        <group feedback-policy="icpc" name="small" points="40" points-policy="complete-group">
          <dependencies><dependency group="samples"/></dependencies>
        </group>
        <group feedback-policy="points" name="large" points-policy="each-test"/>
      </groups>"""
    assets = """
    <checker name="check.cpp" type="testlib">
      <source path="files/check.cpp" type="cpp.g++17"/>
      <copy path="check.cpp"/>
    </checker>
    <solutions>
      <solution tag="main"><source path="solutions/sum.cpp" type="cpp.g++17"/></solution>
      <solution tag="wrong-answer"><source path="solutions/off.cpp" type="cpp.g++17"/></solution>
    </solutions>"""
    xml = _problem_xml(tests, groups, 5, assets=assets).replace("{code}", code).replace("{name}", "Polygon sum")
    files = {"problem.xml": xml, "files/testlib.h": MINI_TESTLIB, "files/check.cpp": POLYGON_CHECKER,
             "check.cpp": POLYGON_CHECKER, "solutions/sum.cpp": SUM_CPP, "solutions/off.cpp": SUM_OFF_CPP,
             "statement-sections/english/legend.tex": "Print $a+b$.\n"}
    for i, (inp, out) in enumerate([("1 2", "3"), ("5 6", "11"), ("7 8", "15"), ("500 1", "501"),
                                    ("700 2", "702")], 1):
        files[f"tests/{i:02d}"] = inp + "\n"
        files[f"tests/{i:02d}.a"] = out + "\n"
    return write(root, files)


def polygon_standard(root: Path) -> Path:
    """A standard Polygon package: generated tests are not stored."""
    tests = """<test method="manual" sample="true"/><test method="generated" cmd="gen 10 20"/>"""
    xml = _problem_xml(tests, "", 2).replace("{code}", "gen").replace("{name}", "Generated")
    return write(root, {"problem.xml": xml, "files/testlib.h": MINI_TESTLIB, "files/gen.cpp": "int main(){}\n",
                        "tests/01": "1 2\n", "tests/01.a": "3\n"})


def polygon_interactive(root: Path) -> Path:
    """An interactive Polygon package (testlib interactor + checker of its output), no points."""
    tests = """<test method="manual" sample="true"/>""" + """<test method="manual"/>""" * 3
    assets = """
    <checker type="testlib"><source path="files/check.cpp" type="cpp.g++17"/></checker>
    <interactor><source path="files/interactor.cpp" type="cpp.g++17"/></interactor>
    <solutions>
      <solution tag="main"><source path="solutions/bsearch.cpp" type="cpp.g++17"/></solution>
      <solution tag="wrong-answer"><source path="solutions/linear.cpp" type="cpp.g++17"/></solution>
    </solutions>"""
    xml = _problem_xml(tests, "", 4, assets=assets).replace("{code}", "pguess").replace("{name}", "Guess")
    files = {"problem.xml": xml, "files/testlib.h": MINI_TESTLIB, "files/check.cpp": POLYGON_TOUT_CHECKER,
             "files/interactor.cpp": POLYGON_INTERACTOR, "solutions/bsearch.cpp": GUESS_CPP,
             "solutions/linear.cpp": GUESS_LINEAR_CPP}
    for i, secret in enumerate([500, 3, 900, 15], 1):
        files[f"tests/{i:02d}"] = f"{secret}\n"
        files[f"tests/{i:02d}.a"] = "\n"
    return write(root, files)


def polygon_grader(root: Path) -> Path:
    """A Polygon package whose solutions are compiled with a grader resource (IOI style)."""
    tests = """<test method="manual" sample="true"/><test method="manual"/>"""
    resources = """
    <file path="files/grader.cpp" type="cpp.g++17"><assets><asset name="solution"/></assets></file>
    <file path="files/add.h" type="h.g++"><assets><asset name="solution"/></assets></file>"""
    assets = """<solutions><solution tag="main"><source path="solutions/add.cpp" type="cpp.g++17"/></solution>
      </solutions>"""
    xml = _problem_xml(tests, "", 2, assets=assets, resources=resources).replace("{code}", "add")
    files = {"problem.xml": xml.replace("{name}", "Add"), "files/testlib.h": MINI_TESTLIB,
             "files/grader.cpp": "#include <cstdio>\n#include \"add.h\"\nint main(){long long a,b;"
                                 "scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",add(a,b));}\n",
             "files/add.h": "long long add(long long a, long long b);\n",
             "solutions/add.cpp": "#include \"add.h\"\nlong long add(long long a, long long b){return a+b;}\n",
             "tests/01": "1 2\n", "tests/01.a": "3\n", "tests/02": "40 2\n", "tests/02.a": "42\n"}
    return write(root, files)
