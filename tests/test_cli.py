"""``python -m analytics fit|score`` run as a subprocess on small files."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analytics import load_model
from analytics.cli.main import main
from analytics.io import read_table
from tests.browser_support import ROOT
from ui.data import SAMPLE_PATH

ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))


def run(*args: object, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "analytics", *map(str, args)],
        capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=300,
    )  # fmt: skip
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def _probs(df: pd.DataFrame) -> np.ndarray:
    return df[[c for c in df.columns if c.startswith(("prob_segment_", "segment_prob"))]].to_numpy()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, object]:
    """A training CSV, a new CSV (semicolons, decimal commas, gaps) and a fitted model."""
    d = tmp_path_factory.mktemp("cli")
    sample = read_table(SAMPLE_PATH)
    train = d / "train.csv"
    train.write_bytes(SAMPLE_PATH.read_bytes())
    new = sample.iloc[:137].copy()
    new.loc[::9, "annual_income"] = np.nan
    new.loc[5, "region"] = "Atlantis"
    new["balance"] = np.where(np.arange(len(new)) % 2, -12.5, 3.0)  # negative numbers as text
    text = new.to_csv(sep=";", index=False, decimal=",")
    new_csv = d / "new.csv"
    new_csv.write_text(text, encoding="utf-8")
    model = d / "model.json"
    proc = run("fit", train, "--method", "kmeans", "--k", "4", "--n-init", "2", "-o", model)
    assert "Fitted k-means with 4 segments on 2,000 rows" in proc.stderr
    return {"dir": d, "train": train, "new": new_csv, "model": model}


def test_help_documents_both_commands() -> None:
    top = run("--help").stdout
    assert "fit" in top and "score" in top and "larger than memory" in top
    fit = run("fit", "--help").stdout
    for flag in ("--method", "--k", "-o", "--columns", "--covariance-type", "--m", "--seed"):
        assert flag in fit
    score = run("score", "--help").stdout
    for word in ("MODEL", "INPUT", "OUTPUT", "--chunksize", "Parquet"):
        assert word in score


def test_fit_writes_a_model_equal_to_the_in_memory_fit(files) -> None:
    from analytics import segment

    model = load_model(files["model"])
    seg = segment(read_table(files["train"]), "kmeans", 4, n_init=2)
    assert model.summary["sizes"] == seg.sizes.tolist()
    np.testing.assert_array_equal(
        model.params["centers"], seg.estimator.cluster_centers_[seg.order]
    )


@pytest.mark.parametrize("chunksize", [7, 100_000])
def test_chunked_csv_scoring_equals_in_memory_predict(files, chunksize) -> None:
    out = files["dir"] / f"scored_{chunksize}.csv"
    proc = run("score", files["model"], files["new"], "-o", out, "--chunksize", chunksize)
    assert "Scored 137 rows" in proc.stderr and "segment 1:" in proc.stderr
    assert "'region': 1 row(s)" in proc.stderr  # the unseen category is reported
    assert "score [####" in proc.stderr  # the progress bar (text mode shows its \r as \n)
    model = load_model(files["model"])
    new = read_table(files["new"])
    expected = model.predict(new)
    got = read_table(out)
    assert list(got.columns) == list(expected.columns)
    assert np.array_equal(got["segment"].to_numpy(), expected["segment"].to_numpy())
    np.testing.assert_allclose(_probs(got), _probs(expected), rtol=0, atol=1e-12)
    # Every input value comes back as written: IDs, decimal commas parsed, negatives kept.
    assert got["customer_id"].tolist() == new["customer_id"].tolist()
    np.testing.assert_array_equal(got["balance"], new["balance"])
    assert not out.with_name(out.name + ".part").exists()


def test_parquet_in_and_out_equals_in_memory_predict(files) -> None:
    d = files["dir"]
    df = read_table(SAMPLE_PATH).iloc[:300].copy()
    df.loc[250:, "age"] = pd.NA  # gaps only in the last chunks: int64 stays one column type
    df["age"] = df["age"].astype("Int64")
    src = d / "new.parquet"
    df.to_parquet(src, index=False)
    out = d / "scored.parquet"
    run("score", files["model"], src, "-o", out, "--chunksize", 64, "--quiet")
    got = pd.read_parquet(out)
    expected = load_model(files["model"]).predict(pd.read_parquet(src))
    assert list(got.columns) == list(expected.columns)
    assert np.array_equal(got["segment"].to_numpy(), expected["segment"].to_numpy())
    np.testing.assert_allclose(_probs(got), _probs(expected), rtol=0, atol=1e-12)
    # CSV in, Parquet out: text columns stay text, the model's numbers become floats.
    out2 = d / "from_csv.parquet"
    run("score", files["model"], files["new"], "-o", out2, "--chunksize", 50, "-q")
    got2 = pd.read_parquet(out2)
    assert got2["annual_income"].dtype == "float64"
    assert got2["customer_id"].tolist() == read_table(files["new"])["customer_id"].tolist()


def test_fit_from_parquet_all_methods(files) -> None:
    d = files["dir"]
    src = d / "train.parquet"
    read_table(SAMPLE_PATH).iloc[:400].to_parquet(src)
    for method, extra in (("gmm", ["--covariance-type", "diag"]), ("fcm", ["--m", "1.8"])):
        model = d / f"{method}.json"
        run("fit", src, "--method", method, "--k", "3", "--n-init", "1", *extra, "-o", model, "-q")
        assert load_model(model).method == method


@pytest.mark.parametrize(
    "args, words",
    [
        (["score", "{model}", "{dir}/missing.csv", "-o", "{dir}/x.csv"], "No file was found"),
        (["score", "{model}", "{new}", "-o", "{dir}/x.csv", "--chunksize", "0"], "at least 1"),
        (["score", "{model}", "{dir}/fake.parquet", "-o", "{dir}/x.csv"], "as Parquet"),
        (["score", "{new}", "{new}", "-o", "{dir}/x.csv"], "not a segmentation model"),
        (["score", "{model}", "{new}", "-o", "{new}"], "different file"),
        (["score", "{model}", "{dir}/bad.csv", "-o", "{dir}/x.csv"], "missing column"),
        (["fit", "{new}", "--method", "kmeans", "--k", "0", "-o", "{dir}/m.json"], "between 1"),
        (["fit", "{new}", "--method", "kmeans", "--k", "3", "--m", "2", "-o", "{dir}/m.json"],
         "Unknown setting"),
        (["score", "{model}", "{new}", "-o", "{dir}/nofolder/x.csv"], "does not exist"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_plain_line(files, args, words, capsys) -> None:
    # In-process (cli.main is what __main__ runs) to keep the suite fast; the
    # subprocess path is covered by the test below.
    (files["dir"] / "bad.csv").write_text("a,b\n1,2\n3,4\n")
    (files["dir"] / "fake.parquet").write_text("a,b\n1,2\n")
    args = [str(a).format(**{k: str(v) for k, v in files.items()}) for a in args]
    assert main([*args, "--quiet"]) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and words in lines[0], err
    assert "Traceback" not in err
    assert not (files["dir"] / "x.csv").exists()


def test_subprocess_error_is_one_line_without_traceback(files) -> None:
    proc = run("score", files["model"], files["dir"] / "nope.csv", "-o", files["dir"] / "y.csv",
               ok=False)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"error: No file was found at '{files['dir'] / 'nope.csv'}'."
    ]
    usage = run("score", files["model"], ok=False)  # argparse: missing arguments
    assert usage.returncode == 2 and "usage:" in usage.stderr


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252"])
def test_score_streams_what_read_table_reads(files, encoding) -> None:
    # The CLI used to refuse UTF-16; it now sniffs with analytics.io.dialect like read_table.
    d = files["dir"]
    text = files["new"].read_text(encoding="utf-8")
    src = d / f"new_{encoding}.csv"
    src.write_bytes(text.encode(encoding))
    ref, got = d / f"ref_{encoding}.csv", d / f"got_{encoding}.csv"
    assert main(["score", str(files["model"]), str(files["new"]), "-o", str(ref), "-q"]) == 0
    assert (
        main(["score", str(files["model"]), str(src), "-o", str(got), "-q", "--chunksize", "40"])
        == 0
    )
    assert got.read_bytes() == ref.read_bytes()


# --------------------------------------------------------------------------- rfm

RFM_ARGS = ("--customer", "CustomerID", "--date", "InvoiceDate", "--quantity", "Quantity",
            "--price", "UnitPrice", "--invoice", "InvoiceNo")  # fmt: skip


@pytest.fixture(scope="module")
def log_files(tmp_path_factory) -> dict[str, object]:
    """A generated purchase log as CSV (day-first text dates) and as Parquet (typed dates)."""
    from bench.case_rfm import make_log

    d = tmp_path_factory.mktemp("rfm")
    log = make_log(12_000, random_state=7)
    csv = d / "log.csv"
    log.to_csv(csv, index=False)
    typed = log.assign(InvoiceDate=pd.to_datetime(log["InvoiceDate"], format="%d/%m/%Y %H:%M"))
    parquet = d / "log.parquet"
    typed.to_parquet(parquet, index=False)
    return {"dir": d, "csv": csv, "parquet": parquet, "log": log, "typed": typed}


def test_help_documents_rfm() -> None:
    assert "rfm" in run("--help").stdout
    text = run("rfm", "--help").stdout
    for word in (
        "TRANSACTIONS",
        "--customer",
        "--date",
        "--amount",
        "--quantity",
        "--price",
        "--invoice",
        "--as-of",
        "--dates",
        "--chunksize",
        "Parquet",
        "cancellations",
    ):
        assert word in text, word  # fmt: skip


@pytest.mark.parametrize("chunksize", [997, 1_000_000])
def test_rfm_chunked_csv_equals_in_memory(log_files, chunksize) -> None:
    from analytics import rfm

    out = log_files["dir"] / f"customers_{chunksize}.parquet"
    proc = run("rfm", log_files["csv"], *RFM_ARGS, "-o", out, "--chunksize", chunksize)
    expected = rfm(read_table(log_files["csv"]), "CustomerID", "InvoiceDate", quantity="Quantity",
                   price="UnitPrice", invoice="InvoiceNo")  # fmt: skip
    got = pd.read_parquet(out)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_categorical=False)
    assert got["rfm_group"].dtype == "category" and got["frequency"].dtype == "int64"
    assert f"Wrote {len(expected):,} customers" in proc.stderr
    assert "left out: no customer" in proc.stderr and "day/month/year" in proc.stderr


def test_rfm_parquet_in_csv_out(log_files) -> None:
    from analytics import rfm

    out = log_files["dir"] / "customers.csv"
    run("rfm", log_files["parquet"], *RFM_ARGS, "-o", out, "--chunksize", 5000, "-q")
    expected = rfm(log_files["typed"], "CustomerID", "InvoiceDate", quantity="Quantity",
                   price="UnitPrice", invoice="InvoiceNo")  # fmt: skip
    got = read_table(out)
    assert got["CustomerID"].astype(str).tolist() == expected["CustomerID"].tolist()
    for c in ("recency_days", "frequency", "tenure_days", "r_score", "f_score", "m_score"):
        assert (got[c].to_numpy() == expected[c].to_numpy()).all(), c
    np.testing.assert_allclose(got["monetary"], expected["monetary"], rtol=1e-12)
    assert got["rfm_group"].tolist() == expected["rfm_group"].astype(str).tolist()
    assert (
        got["last_purchase"].tolist() == expected["last_purchase"].dt.strftime("%Y-%m-%d").tolist()
    )


def test_rfm_amount_and_as_of(log_files) -> None:
    from analytics import rfm

    log = log_files["log"].assign(Spend=lambda d: d["Quantity"] * d["UnitPrice"])
    src = log_files["dir"] / "spend.csv"
    log[["CustomerID", "InvoiceDate", "Spend"]].to_csv(src, index=False, sep=";", decimal=",")
    out = log_files["dir"] / "spend_customers.parquet"
    run("rfm", src, "--customer", "CustomerID", "--date", "InvoiceDate", "--amount", "Spend",
        "--as-of", "2012-01-31", "-o", out, "-q")  # fmt: skip
    expected = rfm(log, "CustomerID", "InvoiceDate", amount="Spend", as_of="2012-01-31")
    got = pd.read_parquet(out)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_categorical=False)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--customer", "Kunde", "--date", "InvoiceDate", "--amount", "Quantity"],
         "no customer column 'Kunde'"),
        (["--customer", "CustomerID", "--date", "InvoiceDate", "--amount", "Quantity",
          "--price", "UnitPrice"], "--quantity and --price go together"),
        ([*RFM_ARGS, "--as-of", "2011-01-01"], "before some lines"),
        ([*RFM_ARGS, "--as-of", "someday"], "not a date"),
        (["--customer", "CustomerID", "--date", "StockCode", "--amount", "Quantity"],
         "No date in the column 'StockCode'"),
        ([*RFM_ARGS, "--chunksize", "0"], "--chunksize must be at least 1"),
    ],
)  # fmt: skip
def test_rfm_bad_input_exits_2_with_one_plain_line(log_files, extra, words, capsys) -> None:
    out = log_files["dir"] / "bad_out.csv"
    assert main(["rfm", str(log_files["csv"]), *extra, "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and words in lines[0], err
    assert not out.exists()


def test_rfm_refuses_to_overwrite_its_input(log_files) -> None:
    before = log_files["csv"].read_bytes()
    proc = run("rfm", log_files["csv"], *RFM_ARGS, "-o", log_files["csv"], ok=False)
    assert proc.returncode == 2 and "same file" in proc.stderr
    assert log_files["csv"].read_bytes() == before
