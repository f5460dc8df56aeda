"""ioi_box._native.compare: CMS white-diff semantics, tokens, floats, yes/no, unordered lines,
errors, and constant memory on a 200 MB file."""

from __future__ import annotations

import io
import random
import subprocess
import sys
import textwrap

import pytest

# ---------------------------------------------------------------------------------------------
# The reference: cms/grading/steps/whitediff.py (CMS 1.5), verbatim in substance.
# ---------------------------------------------------------------------------------------------
_WHITES = [b" ", b"\t", b"\n", b"\x0b", b"\x0c", b"\r"]


def _white_diff_canonicalize(string: bytes) -> bytes:
    for char in _WHITES[1:]:
        string = string.replace(char, _WHITES[0])
    return _WHITES[0].join([x for x in string.split(_WHITES[0]) if x != b""])


def cms_white_diff(output: bytes, res: bytes) -> bool:
    out, ref = io.BytesIO(output), io.BytesIO(res)
    while True:
        lout = out.readline()
        lres = ref.readline()
        if len(lres) == 0 and len(lout) == 0:
            return True
        elif len(lres) == 0 or len(lout) == 0:
            lout = lout.strip(b"".join(_WHITES))
            lres = lres.strip(b"".join(_WHITES))
            if len(lout) > 0 or len(lres) > 0:
                return False
        else:
            lout = _white_diff_canonicalize(lout)
            lres = _white_diff_canonicalize(lres)
            if lout != lres:
                return False


@pytest.fixture
def cmp(native, tmp_path):
    """cmp(kind, expected, output, *tol) with contents as str/bytes."""
    counter = iter(range(10**9))

    def write(data) -> str:
        p = tmp_path / f"f{next(counter)}"
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        return str(p)

    def run(kind, expected, output, *tol):
        ok, msg = native.compare(kind, write(expected), write(output), *tol)
        assert isinstance(ok, bool) and isinstance(msg, str) and msg
        return ok, msg

    return run


# ---------------------------------------------------------------------------------------------
# white_diff
# ---------------------------------------------------------------------------------------------

WHITE_DIFF_CASES = [
    # (expected, output, ok)
    ("", "", True),
    ("", "\n\n  \n\t\n", True),  # trailing blank lines of the output
    ("\n\n\n", "", True),  # ... or of the expected file
    ("", "a", False),
    ("a", "", False),
    ("1 2 3\n", "1 2 3\n", True),
    ("1 2 3\n", "1 2 3", True),  # no final newline
    ("1 2 3\n", "  1   2\t3  \n", True),  # runs collapsed, ends stripped
    ("1 2 3\n", "1 2 3\r\n", True),  # CRLF
    ("1 2\r\n3 4\r\n", "1 2\n3 4\n", True),
    ("a b\n", "ab\n", False),  # whitespace between tokens is significant
    ("a b\n", "a\nb\n", False),  # line structure is significant
    ("a\n\nb\n", "a\nb\n", False),  # a blank line in the middle must match
    ("a\n\nb\n", "a\n \t\nb\n", True),  # ... but may hold whitespace
    ("a\nb\n", "a\nb\n\n\n", True),
    ("a\nb\n\n\n", "a\nb", True),
    ("a\n", "a\n\nb\n", False),  # non-blank after blank lines
    ("x\vy\n", "x y\n", True),  # \v and \f are whitespace
    ("x\fy\n", "x\ty\n", True),
    ("x\ry\n", "x y\n", True),  # a lone \r is whitespace within a line
    ("Yes\n", "yes\n", False),  # case matters
    ("1\n2\n", "1\n3\n", False),
    ("\n1\n", "1\n", False),  # leading blank line matters
]


@pytest.mark.parametrize(("expected", "output", "ok"), WHITE_DIFF_CASES)
def test_white_diff_cases(cmp, expected, output, ok):
    assert cms_white_diff(output.encode(), expected.encode()) == ok  # the reference agrees
    assert cmp("white_diff", expected, output)[0] == ok


def test_white_diff_matches_cms_on_random_inputs(cmp, native, tmp_path):
    rng = random.Random(12345)
    alphabet = [b"a", b"b", b" ", b"\t", b"\n", b"\n", b"\r", b"\x0b", b"\x0c", b"\r\n"]

    def rand() -> bytes:
        return b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))

    e, o = tmp_path / "e", tmp_path / "o"
    for _ in range(3000):
        a = rand()
        b = rand() if rng.random() < 0.5 else _mutate_ws(rng, a)
        e.write_bytes(a)
        o.write_bytes(b)
        ok, _ = native.compare("white_diff", str(e), str(o))
        assert ok == cms_white_diff(b, a), (a, b)


def _mutate_ws(rng: random.Random, s: bytes) -> bytes:
    """s with some whitespace runs changed: often still equal under white-diff."""
    out = bytearray()
    for ch in s:
        if ch in b" \t\r\x0b\x0c" and rng.random() < 0.5:
            out += rng.choice([b" ", b"  ", b"\t", b""])
        else:
            out.append(ch)
    if rng.random() < 0.3:
        out += rng.choice([b"\n", b"\n\n", b" \n", b""])
    return bytes(out)


def test_white_diff_message_names_line(cmp):
    ok, msg = cmp("white_diff", "1\n2\n3\n", "1\n2\n4\n")
    assert not ok and "line 3" in msg
    ok, msg = cmp("white_diff", "1\n2\n3\n", "1\n2\n3\n")
    assert ok and msg == "Output is correct"


# ---------------------------------------------------------------------------------------------
# tokens, yes_no
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "output", "ok"),
    [
        ("1 2 3", "1\n2\n\n3\n", True),
        ("1 2 3\n", "  1 2 3   ", True),
        ("", "\n \n", True),
        ("1 2 3", "1 2", False),
        ("1 2", "1 2 3", False),
        ("abc", "abcd", False),
        ("1.0", "1", False),  # tokens are strings
        ("YES", "yes", False),
    ],
)
def test_tokens(cmp, expected, output, ok):
    assert cmp("tokens", expected, output)[0] == ok


def test_tokens_messages(cmp):
    ok, msg = cmp("tokens", "1 2\n3 4\n", "1 2\n3 5\n")
    assert not ok and "token 4" in msg and "line 2" in msg and "'4'" in msg and "'5'" in msg
    assert "too short" in cmp("tokens", "1 2", "1")[1]
    assert "extra" in cmp("tokens", "1", "1 2")[1]


@pytest.mark.parametrize("n", [4095, 4096, 4097, 20000])
def test_tokens_longer_than_a_chunk(cmp, n):
    tok = "".join(chr(ord("a") + i % 26) for i in range(n))
    assert cmp("tokens", tok + " end", tok + "\nend")[0]
    assert not cmp("tokens", tok, tok[:-1] + "#")[0]
    assert not cmp("tokens", tok, tok + "z")[0]
    assert not cmp("tokens", tok + "z", tok)[0]
    assert not cmp("floats", tok, tok + "z")[0]


@pytest.mark.parametrize(
    ("expected", "output", "ok"),
    [
        ("YES", "yes", True),
        ("Yes\nNo", "yEs nO", True),
        ("YES", "NO", False),
        ("YES NO", "YES", False),
    ],
)
def test_yes_no(cmp, expected, output, ok):
    assert cmp("yes_no", expected, output)[0] == ok


@pytest.mark.parametrize(
    ("expected", "output", "ok"),
    [
        ("1.0 IMPOSSIBLE", "1.0000001 impossible", True),  # strings ignore case, numbers within 1e-6
        ("1.0 IMPOSSIBLE", "1.1 IMPOSSIBLE", False),
        ("1.0 yes", "1.0 no", False),
        ("2.5", "abc", False),
    ],
)
def test_floats_nocase(cmp, expected, output, ok):
    """The Kattis default validator with a float tolerance (case-insensitive string tokens)."""
    assert cmp("floats_nocase", expected, output, 1e-6, 1e-6)[0] == ok


# ---------------------------------------------------------------------------------------------
# floats
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "output", "tol", "ok"),
    [
        ("1.0", "1", (), True),
        ("1.5 2.5", "1.5000001 2.4999999", (), True),
        ("1.0", "1.000001", (1e-6, 0), True),  # exactly at the tolerance
        ("1.0", "1.00001", (1e-6, 1e-6), False),
        ("1000000", "1000000.9", (1e-6, 1e-6), True),  # relative to the expected value
        ("1000000", "1000001.1", (1e-6, 1e-6), False),
        ("0", "1e-7", (1e-6, 0), True),
        ("0", "-1e-7", (1e-6, 0), True),
        ("0", "1e-5", (1e-6, 1e-6), False),
        ("1e3", "1000.0000001", (), True),
        (".5", "0.5", (), True),
        ("5.", "5", (), True),
        ("1", "1 2", (), False),  # counts must match
        ("1 2", "1", (), False),
        ("1", "abc", (), False),  # a number was expected
        ("abc", "abc", (), True),  # non-numbers compare as strings
        ("abc 1.0", "abc 1.0000001", (), True),
        ("abc", "abd", (), False),
        ("16", "0x10", (), False),  # no hex floats
        ("nan", "NaN", (), True),
        ("nan", "1", (), False),
        ("1", "nan", (), False),
        ("inf", "Infinity", (), True),
        ("-inf", "inf", (), False),
        ("inf", "1e308", (), False),
        ("1e999", "inf", (), True),  # overflows to inf
        ("1", "1e", (), False),
        ("1", "1.0.0", (), False),
        ("2", "+2.0", (), True),
        ("3", "3", (0, 0), True),
        ("3", "3.0000000001", (0, 0), False),
    ],
)
def test_floats(cmp, expected, output, tol, ok):
    assert cmp("floats", expected, output, *tol)[0] == ok, cmp("floats", expected, output, *tol)


# ---------------------------------------------------------------------------------------------
# unordered_lines
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "output", "ok"),
    [
        ("a\nb\nc\n", "c\na\nb", True),
        ("1 2\n3 4\n", "  3   4 \n\n1\t2\n\n", True),  # normalised, blank lines ignored
        ("a\na\nb\n", "a\nb\nb\n", False),  # multiplicities count
        ("a\nb\n", "a\n", False),
        ("a\n", "a\nb\n", False),
        ("1 2\n", "2 1\n", False),  # within a line, order matters
        ("", "\n\n", True),
    ],
)
def test_unordered_lines(cmp, expected, output, ok):
    assert cmp("unordered_lines", expected, output)[0] == ok


def test_unordered_lines_message(cmp):
    ok, msg = cmp("unordered_lines", "a\nb\n", "a\nc\n")
    assert not ok and ("'b'" in msg or "'c'" in msg)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_unknown_kind(native, tmp_path):
    (tmp_path / "a").write_text("1")
    with pytest.raises(ValueError):
        native.compare("nope", str(tmp_path / "a"), str(tmp_path / "a"))


def test_missing_expected_is_an_error(native, tmp_path):
    (tmp_path / "o").write_text("1")
    with pytest.raises(FileNotFoundError):
        native.compare("tokens", str(tmp_path / "missing"), str(tmp_path / "o"))
    with pytest.raises(IsADirectoryError):
        native.compare("tokens", str(tmp_path), str(tmp_path / "o"))


@pytest.mark.parametrize("kind", ["white_diff", "tokens", "floats", "floats_nocase", "yes_no", "unordered_lines"])
def test_missing_output_is_wrong_answer(native, tmp_path, kind):
    (tmp_path / "e").write_text("1")
    ok, msg = native.compare(kind, str(tmp_path / "e"), str(tmp_path / "missing"))
    assert not ok and "output" in msg
    ok, msg = native.compare(kind, str(tmp_path / "e"), str(tmp_path))  # a directory
    assert not ok


# ---------------------------------------------------------------------------------------------
# Constant memory
# ---------------------------------------------------------------------------------------------

BIG = 200 << 20


@pytest.fixture(scope="module")
def big_files(tmp_path_factory):
    """A 200 MB expected file and an output equal under white_diff/tokens but not bytewise,
    plus a 200 MB single-line file (a single huge line must not be buffered either)."""
    d = tmp_path_factory.mktemp("big")
    line_e = b"".join(b"%d %d %d\n" % (i, i * 7, i * 13) for i in range(10000))
    line_o = line_e.replace(b" ", b"  \t").replace(b"\n", b" \r\n")
    with open(d / "e", "wb") as fe, open(d / "o", "wb") as fo:
        for _ in range(BIG // len(line_e) + 1):
            fe.write(line_e)
            fo.write(line_o)
    with open(d / "one", "wb") as f:
        chunk = b"x" * (1 << 20)
        for _ in range(BIG >> 20):
            f.write(chunk)
    yield d
    for name in ("e", "o", "one"):
        (d / name).unlink()


@pytest.mark.timeout(300)
def test_200mb_in_constant_memory(big_files):
    """Each comparison runs in a fresh interpreter so its peak RSS (ru_maxrss) is its own."""
    script = textwrap.dedent(
        f"""
        import resource, sys
        from ioi_box import _native
        d = {str(big_files)!r}
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        res = [
            _native.compare("white_diff", d + "/e", d + "/o"),
            _native.compare("tokens", d + "/e", d + "/o"),
            _native.compare("floats", d + "/e", d + "/e"),
            _native.compare("white_diff", d + "/one", d + "/one"),
            _native.compare("tokens", d + "/one", d + "/one"),
        ]
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(res, (after - before) * 1024)
        """
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    res, grew = r.stdout.rsplit(" ", 1)
    assert res.count("(True,") == 5, res
    assert int(grew) < 16 << 20, f"peak RSS grew by {int(grew) >> 20} MiB"
