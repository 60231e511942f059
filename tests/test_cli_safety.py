"""The command line never destroys a file (issue 17): outputs that are inputs are
refused before any work, output goes through a unique temporary file, and bad options,
folders and malformed model files end with exit code 2 and one sentence."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.cli.main import main


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli_safety")
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    train = d / "train.csv"
    df.to_csv(train, index=False)
    model = d / "model.json"
    assert main(["fit", str(train), "--method", "kmeans", "--k", "2", "--n-init", "1",
                 "-o", str(model), "-q"]) == 0  # fmt: skip
    return {"dir": d, "train": train, "model": model}


def _error(capsys) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _snapshot(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}


def _fit(src: Path, out: Path) -> list[str]:
    return ["fit", str(src), "--method", "kmeans", "--k", "2", "--n-init", "1", "-o", str(out)]


def test_fit_refuses_to_write_over_its_input(files, capsys) -> None:
    before = _snapshot(files["dir"])
    assert main([*_fit(files["train"], files["train"]), "-q"]) == 2
    line = _error(capsys)
    assert str(files["train"]) in line and "same file" in line
    assert _snapshot(files["dir"]) == before


@pytest.mark.parametrize("link", ["symlink", "hardlink", "dotted"])
def test_outputs_that_resolve_to_an_input_are_refused(files, tmp_path, link, capsys) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(files["train"].read_bytes())
    model = tmp_path / "m.json"
    model.write_bytes(files["model"].read_bytes())
    if link == "symlink":
        out_src, out_model = tmp_path / "s1.csv", tmp_path / "s2.json"
        out_src.symlink_to(src)
        out_model.symlink_to(model)
    elif link == "hardlink":
        out_src, out_model = tmp_path / "h1.csv", tmp_path / "h2.json"
        os.link(src, out_src)
        os.link(model, out_model)
    else:  # the same file spelled through "..": only resolving the path shows it
        out_src = tmp_path / "sub" / ".." / "in.csv"
        out_model = tmp_path / "sub" / ".." / "m.json"
        (tmp_path / "sub").mkdir()
    before = _snapshot(tmp_path)
    assert main([*_fit(src, out_src), "-q"]) == 2
    assert "same file as the input" in _error(capsys)
    assert main(["score", str(model), str(src), "-o", str(out_src), "-q"]) == 2
    assert "same file as the input" in _error(capsys)
    assert main(["score", str(model), str(src), "-o", str(out_model), "-q"]) == 2
    line = _error(capsys)
    assert "same file as the model file" in line and str(model) in line
    assert _snapshot(tmp_path) == before


def test_score_refuses_to_write_over_the_model(files, capsys) -> None:
    before = files["model"].read_bytes()
    args = ["score", str(files["model"]), str(files["train"]), "-o", str(files["model"])]
    assert main([*args, "-q"]) == 2
    assert "same file as the model file" in _error(capsys)
    assert files["model"].read_bytes() == before


def test_an_input_named_like_the_old_temporary_file_survives(files, tmp_path) -> None:
    # The output used to go to OUTPUT.part: this input was truncated, then deleted.
    src = tmp_path / "big.csv.part"
    src.write_bytes(files["train"].read_bytes())
    out = tmp_path / "big.csv"
    assert main(["score", str(files["model"]), str(src), "-o", str(out), "-q"]) == 0
    assert src.read_bytes() == files["train"].read_bytes()
    assert len(pd.read_csv(out)) == 60
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv", "big.csv.part"]


def test_the_output_gets_ordinary_permissions(files, tmp_path) -> None:
    out = tmp_path / "m.json"
    assert main([*_fit(files["train"], out), "-q"]) == 0
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_failed_score_removes_only_its_temporary_file(files, tmp_path, capsys) -> None:
    src = tmp_path / "other.csv"
    src.write_text("x,y\n1,2\n")  # not the model's columns: fails while scoring
    out = tmp_path / "out.csv"
    out.write_text("keep me\n")
    (tmp_path / ".out.csv.part").write_text("not ours\n")  # a user's file, left alone
    before = _snapshot(tmp_path)
    assert main(["score", str(files["model"]), str(src), "-o", str(out), "-q"]) == 2
    assert "missing column" in _error(capsys)
    assert _snapshot(tmp_path) == before


def test_fit_checks_the_output_folder_before_fitting(files, tmp_path, monkeypatch, capsys):
    import analytics.model.fit as fit_module

    def never(*args, **kwargs):
        raise AssertionError("fitted before the output was checked")

    monkeypatch.setattr(fit_module, "segment", never)
    assert main([*_fit(files["train"], tmp_path / "nofolder" / "m.json"), "-q"]) == 2
    assert "does not exist" in _error(capsys)
    assert main([*_fit(files["train"], tmp_path), "-q"]) == 2
    assert "is a folder" in _error(capsys)
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            assert main([*_fit(files["train"], locked / "m.json"), "-q"]) == 2
            assert "cannot be written" in _error(capsys)
        finally:
            locked.chmod(0o700)


@pytest.mark.parametrize("sep", ["", ";;", '"', "\n"])
def test_a_bad_separator_is_one_sentence(files, tmp_path, sep, capsys) -> None:
    out = tmp_path / "x.csv"
    args = ["score", str(files["model"]), str(files["train"]), "-o", str(out), "--sep", sep]
    assert main([*args, "-q"]) == 2
    assert "--sep must be one character" in _error(capsys)
    assert not out.exists()


def test_tab_separator_still_works(files, tmp_path) -> None:
    src = tmp_path / "tab.csv"
    pd.read_csv(files["train"]).to_csv(src, sep="\t", index=False)
    out = tmp_path / "x.csv"
    args = ["score", str(files["model"]), str(src), "-o", str(out), "--sep", "\\t", "-q"]
    assert main(args) == 0
    assert len(pd.read_csv(out, sep="\t")) == 60


@pytest.mark.parametrize("which", ["score input", "score model", "fit input"])
def test_a_folder_as_input_exits_2(files, tmp_path, which, capsys) -> None:
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    out = tmp_path / "x.csv"
    if which == "score input":
        args = ["score", str(files["model"]), str(folder), "-o", str(out)]
    elif which == "score model":
        args = ["score", str(folder), str(files["train"]), "-o", str(out)]
    else:
        args = _fit(folder, tmp_path / "m.json")
    assert main([*args, "-q"]) == 2
    line = _error(capsys)
    assert "is a folder" in line and str(folder) in line
    assert not out.exists()


def _edited_model(files, tmp_path: Path, edit) -> Path:
    text = files["model"].read_text()
    doc = json.loads(text)
    text = edit(doc, text)
    path = tmp_path / "bad.json"
    path.write_text(text)
    return path


def _set_sizes(doc, _text):
    doc["summary"]["sizes"] = [10**20, 1]
    return json.dumps(doc)


def _huge_centre(doc, _text):
    doc["model"]["centers"][0][0] = 10**400
    return json.dumps(doc)


def _huge_int_literal(doc, _text):
    return json.dumps(doc).replace('"n_rows": 60', '"n_rows": ' + "7" * 5000)


def _float_overflow(doc, _text):
    return json.dumps(doc).replace(json.dumps(doc["model"]["centers"][0][0]), "1e400", 1)


def _sizes_over_int64(doc, _text):
    doc["summary"]["sizes"] = [2**63 - 1, 1]
    return json.dumps(doc)


@pytest.mark.parametrize(
    "edit, words",
    [
        (_set_sizes, "digits"),
        (_sizes_over_int64, "'sizes'"),
        (_huge_centre, "digits"),
        (_huge_int_literal, "5,000 digits"),
        (_float_overflow, "too large"),
    ],
)
def test_a_malformed_model_exits_2_before_writing(files, tmp_path, edit, words, capsys):
    model = _edited_model(files, tmp_path, edit)
    out = tmp_path / "x.csv"
    assert main(["score", str(model), str(files["train"]), "-o", str(out)]) == 2
    line = _error(capsys)
    assert "not a valid model file" in line and words in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]
