"""``hf:`` sources: open-r1's IOI and Codeforces datasets materialised as packages and judged."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ioi_eval.cli import app
from ioi_eval.errors import SourceError
from ioi_eval.judge.results import Verdict
from ioi_eval.judge.submission import Submission
from ioi_eval.sources import HfSource, resolve_source
from ioi_eval.sources.hf import parse_spec
from ioi_eval.sources.loader import load_problem
from tests.fixtures import openr1_fixtures as fx

pytest.importorskip("datasets")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IOI_EVAL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CF_TESTS_FOLDER", raising=False)


def _sub(code: str, lang: str = "cpp") -> Submission:
    return Submission(name=f"s.{'py' if lang == 'python' else 'cpp'}", language=lang, source=code.encode())


# -- specs -----------------------------------------------------------------------------------
def test_spec_syntax():
    assert parse_spec("open-r1/ioi").split == "test" and parse_spec("open-r1/ioi").config is None
    cf = parse_spec("open-r1/codeforces")
    assert (cf.config, cf.split) == ("verifiable", "test")
    s = parse_spec("open-r1/codeforces@verifiable-prompts/train?limit=5&ids=1/A,2/B")
    assert (s.config, s.split, s.options) == ("verifiable-prompts", "train", {"limit": "5", "ids": "1/A,2/B"})
    s = parse_spec("open-r1/ioi:default@train")  # the replay engine's form
    assert (s.dataset, s.config, s.split) == ("open-r1/ioi", "default", "train")
    with pytest.raises(SourceError, match="unknown option"):
        parse_spec("open-r1/ioi?frobnicate=1")


# -- IOI ---------------------------------------------------------------------------------------
def test_ioi_save_to_disk_materialises_a_package(tmp_path):
    folder = fx.save_ioi_dataset(tmp_path)
    source = resolve_source(f"hf:{folder}")
    assert isinstance(source, HfSource)
    [root] = source.packages()
    p = load_problem(root)
    assert (p.code, p.task_type, p.params.compilation, p.time_limit, p.memory_limit) == (
        "sumab", "Batch", "grader", 1.0, 268435456)
    assert [(s.name, s.points) for s in p.subtasks] == [("00-samples", 0), ("01-small", 40), ("02-full", 60)]
    assert (root / "tests" / "2-01.in").read_text().startswith(fx.SECRET_IN)
    assert (root / "attachments" / "sumab.cpp").is_file() and "Sum AB" in (p.statement or "")
    assert (root / "prompts" / "01-small.md").read_text() == "Solve subtask 01-small of Sum AB."
    # cached: the same folder comes back without rewriting; a plain path (no hf:) is detected too
    stamp = (root / "problem.json").stat().st_mtime_ns
    assert resolve_source(str(folder)).packages() == [root]
    assert (root / "problem.json").stat().st_mtime_ns == stamp


def test_ioi_judged_like_a_package(tmp_path, judge):
    [root] = HfSource(str(fx.save_ioi_dataset(tmp_path))).packages()
    p = load_problem(root)
    ok = judge.judge(p, _sub(fx.SUMAB_OK))
    assert ok.score == 100, ok.tests
    bad = judge.judge(p, _sub(fx.SUMAB_INT))
    assert bad.score == 40 and {t.verdict for t in bad.tests} >= {Verdict.WA}


def test_ioi_jsonl_with_tests_option_and_changed_data(tmp_path):
    main = tmp_path / "rows.jsonl"
    main.write_text("".join(json.dumps(r) + "\n" for r in fx.ioi_rows()))
    tests = tmp_path / "t.json"
    tests.write_text(json.dumps(fx.ioi_test_rows()))
    [first] = HfSource(f"{main}?tests={tests}").packages()
    assert len(load_problem(first).tests) == 4
    rows = fx.ioi_test_rows()
    rows[0]["test_output"] = rows[0]["test_output"].replace("3", "4")
    tests.write_text(json.dumps(rows))
    [second] = HfSource(f"{main}?tests={tests}").packages()
    assert second != first and "4" in (second / "tests" / "0-01.out").read_text()


def test_ioi_communication_params_from_grader_config(tmp_path):
    flat = {"code": "sumab", "task_type": "Communication", "time_limit": 1.0, "memory_limit": 268435456,
            "task_type_parameters_Communication_num_processes": 2,
            "task_type_parameters_Communication_user_io": "fifo_io"}
    rows = fx.ioi_rows(flat)
    for r in rows:
        r["task_type"] = "Communication"
        r["grader_files"] = [*r["grader_files"], ["graders/manager.cpp", "int main() {}\n"],
                             ["graders/stub.cpp", "int main() {}\n"]]
    [root] = HfSource(str(fx.save_ioi_dataset(tmp_path, rows))).packages()
    p = load_problem(root)
    assert (p.task_type, p.params.num_processes, p.params.user_io) == ("Communication", 2, "fifo_io")


def test_ioi_bad_data_is_a_clear_error(tmp_path):
    folder = fx.save_ioi_dataset(tmp_path, tests=fx.ioi_test_rows()[:2])
    with pytest.raises(SourceError, match=r"sumab: 2 test\(s\) missing"):
        HfSource(str(folder)).packages()
    rows = fx.ioi_rows()
    rows[0]["grader_files"] = [["../../etc/evil", "x"]]
    with pytest.raises(SourceError, match="outside the package"):
        HfSource(str(fx.save_ioi_dataset(tmp_path / "evil", rows))).packages()
    lonely = tmp_path / "lonely" / "rows.jsonl"
    lonely.parent.mkdir()
    lonely.write_text(json.dumps(fx.ioi_rows()[0]) + "\n")
    with pytest.raises(SourceError, match=r"\?tests="):
        HfSource(str(lonely)).packages()
    with pytest.raises(SourceError, match="no such file"):
        HfSource(str(tmp_path / "absent")).packages()
    broken = tmp_path / "broken" / "rows.jsonl"
    broken.parent.mkdir()
    broken.write_text("".join(json.dumps({**r, "time_limit": None}) + "\n" for r in fx.ioi_rows()))
    with pytest.raises(SourceError, match="sumab: malformed row"):
        HfSource(f"{broken}?tests={tmp_path / 'ioi-test-cases'}").packages()
    garbled = tmp_path / "garbled" / "rows.jsonl"
    garbled.parent.mkdir()
    garbled.write_text("".join(json.dumps({**r, "year": "MMXXIV"}) + "\n" for r in fx.ioi_rows()))
    with pytest.raises(SourceError, match="sumab: bad year 'MMXXIV'"):
        HfSource(f"{garbled}?tests={tmp_path / 'ioi-test-cases'}").packages()


def test_hub_id_offline_without_cache_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(SourceError, match="open-r1/ioi"):
        HfSource("open-r1/ioi").packages()


# -- Codeforces --------------------------------------------------------------------------------
def test_codeforces_materialised(tmp_path):
    main = fx.save_cf_dataset(tmp_path)
    with pytest.warns(UserWarning, match="interactive"):
        roots = HfSource(str(main.parent.parent) + ":verifiable@test").packages()
    probs = {load_problem(r).code: load_problem(r) for r in roots}
    assert set(probs) == {"cf1A", "cf1B"}
    a, b = probs["cf1A"], probs["cf1B"]
    assert a.scoring == "codeforces" and a.defines == ("ONLINE_JUDGE",)
    assert [len(s.tests) for s in a.subtasks] == [4] and a.subtasks[0].points == 1  # 2 official + 2 generated
    assert a.checker.source is not None and a.checker.source.name == "checker.py"
    assert (b.params.input_file, b.params.output_file, b.memory_limit) == ("input.txt", "output.txt", 64 << 20)
    assert b.checker.standard == "tokens" and len(b.tests) == 3


def test_codeforces_judging_and_profiles(tmp_path):
    from ioi_eval.judge.judge import Judge

    main = fx.save_cf_dataset(tmp_path)
    with pytest.warns(UserWarning):
        roots = HfSource(f"{main}?generated={main.parent.parent / 'generated_tests'}").packages()
    probs = {load_problem(r).code: load_problem(r) for r in roots}
    a, b = probs["cf1A"], probs["cf1B"]
    sum_ok = "a, b = map(int, input().split())\nprint(a + b)\n"
    sum_bad = "a, b = map(int, input().split())\nprint(a + b if a < 50 else 0)\n"
    parity = ('n = int(open("input.txt").read())\n'
              'open("output.txt", "w").write("{}\\n".format("yes" if n % 2 == 0 else "no"))\n')
    with Judge(cache_dir=tmp_path / "jc") as strict, Judge(cache_dir=tmp_path / "jc", profile="codeforces") as cf:
        ok = strict.judge(a, _sub(sum_ok, "python"))
        assert ok.score == 1 and all(t.verdict == Verdict.AC for t in ok.tests)
        bad = strict.judge(a, _sub(sum_bad, "python"))
        # never skipped: every test has a verdict for the partial fraction
        assert bad.score == 0 and [t.verdict for t in bad.tests].count(Verdict.WA) == 1
        assert Verdict.SKIPPED not in bad.verdicts()
        assert "checker printed" in next(t.message for t in bad.tests if t.verdict == Verdict.WA)
        # lower-case yes/no: wrong under the strict token comparison, right under open-r1's
        assert strict.judge(b, _sub(parity, "python")).score == 0
        assert cf.judge(b, _sub(parity, "python")).score == 1
        # ONLINE_JUDGE is defined, as on Codeforces
        cpp = ('#include <cstdio>\nint main(){long long a,b;scanf("%lld %lld",&a,&b);\n'
               '#ifdef ONLINE_JUDGE\nprintf("%lld\\n",a+b);\n#endif\n}\n')
        assert strict.judge(a, _sub(cpp)).score == 1


@pytest.mark.filterwarnings("ignore:.*interactive")
def test_cli_list_and_export(tmp_path):
    main = fx.save_cf_dataset(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["problems", "list", f"hf:{main}"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "cf1A" in res.output and "cf1B" in res.output
    res = runner.invoke(app, ["problems", "export", f"hf:{main}", "--to", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert load_problem(tmp_path / "out" / "cf1A").scoring == "codeforces"
    res = runner.invoke(app, ["problems", "list", "hf:/nonexistent/x.parquet"])
    assert res.exit_code == 2 and "no such file" in res.output


def test_run_reports_codeforces_scores(tmp_path):
    import os
    import subprocess
    import sys

    main = fx.save_cf_dataset(tmp_path)
    ok = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
    half = "```python\na, b = map(int, input().split())\nprint(a + b if a < 50 else 0)\n```"
    rows = [{"key": "cf1A/01-all/0", "text": ok}, {"key": "cf1A/01-all/1", "text": half},
            {"key": "cf1A/01-all/2", "text": "no code here"}]
    src = tmp_path / "replay.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", "run", "--model", str(src), "--engine", "replay",
                          "--problems", f"hf:{main}", "--only", "cf1A", "--samples", "3", "--language", "python",
                          "--run-dir", str(tmp_path / "run"), "--json"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=600, env={**os.environ, "COLUMNS": "200"})
    assert res.returncode == 0, res.stderr
    score = json.loads(res.stdout)
    cf = score["problems"][0]["codeforces"]
    assert (cf["n"], cf["c"], cf["solved"]) == (3, 1, True)
    assert cf["pass_at_k"]["1"] == pytest.approx(1 / 3) and cf["pass_at_k"]["3"] == 1.0
    assert cf["partial_mean"] == pytest.approx((1 + 0.75) / 3)
    assert score["codeforces"]["solved"] == 1 and score["codeforces"]["problems"] == 1


def test_codeforces_generated_tests_from_the_hub_cache(tmp_path, monkeypatch):
    """A Hub dataset's generated tests come per contest through ``hf_hub_download`` (offline: cache only)."""
    import huggingface_hub

    from ioi_eval.sources.hf.codeforces import CodeforcesMaterialiser
    from ioi_eval.sources.hf.tables import FilesTable

    main = fx.save_cf_dataset(tmp_path)
    calls = []

    def fake_download(repo, filename, repo_type=None, local_files_only=False):
        calls.append((repo, filename, repo_type, local_files_only))
        if filename.endswith("test_cases_0001.parquet"):
            return str(main.parent.parent / filename)
        raise huggingface_hub.errors.EntryNotFoundError("absent")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    mat = CodeforcesMaterialiser(parse_spec("open-r1/codeforces"), FilesTable("t", [main]))
    with pytest.warns(UserWarning, match="interactive"):
        codes = mat.write(tmp_path / "out")
    assert calls == [("open-r1/codeforces", "generated_tests/test_cases_0001.parquet", "dataset", True)]
    assert codes == ["cf1A", "cf1B"] and len(load_problem(tmp_path / "out" / "cf1A").tests) == 4
