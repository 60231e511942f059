"""Caches hold only what a live session needs: every cache is bounded and expires, and
only bundled data is shared between sessions; the page's cost estimate counts the
features the model really gets."""

from __future__ import annotations

import ast

import pandas as pd
import pytest

from analytics import profile_columns, read_table, segment
from tests.browser_support import ROOT
from ui import cache
from ui.cost import prepared_width

#: Cached functions allowed to be shared by every session: they hold bundled data only.
SHARED_OK = {"read_table_cached", "bundled_photo_bytes"}


def _cached_functions() -> list[tuple[str, str, ast.Call]]:
    found = []
    for path in sorted((ROOT / "ui").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for dec in node.decorator_list:
                if isinstance(dec, ast.Call) and ast.unparse(dec.func) == "st.cache_data":
                    found.append((path.name, node.name, dec))
                elif ast.unparse(dec) == "st.cache_data":
                    pytest.fail(f"{path.name}:{node.name} is cached without bounds")
    return found


def _options(dec: ast.Call) -> dict[str, object]:
    opts: dict[str, object] = {}
    for kw in dec.keywords:
        if kw.arg is None:  # **cache.SESSION / **SESSION / **SHARED
            name = ast.unparse(kw.value).split(".")[-1]
            opts.update(getattr(cache, name))
        else:
            opts[kw.arg] = ast.literal_eval(kw.value)
    return opts


def test_every_cache_is_bounded_expires_and_is_per_session_unless_bundled() -> None:
    found = _cached_functions()
    assert len(found) >= 15
    for file, name, dec in found:
        opts = _options(dec)
        where = f"{file}:{name}"
        assert isinstance(opts.get("max_entries"), int) and opts["max_entries"] <= 64, where
        assert opts.get("max_size"), where
        assert opts.get("ttl") is not None, where
        if name in SHARED_OK:
            assert opts["scope"] == "global", where
        else:
            assert opts.get("scope") == "session", where  # dropped when the tab closes


def test_the_scored_table_is_not_kept_process_wide() -> None:
    opts = {name: _options(dec) for _, name, dec in _cached_functions()}
    assert opts["_score_cached"]["scope"] == "session"
    assert opts["sweep_cached"]["scope"] == "session"


def test_config_caps_every_cache_together_and_listens_locally() -> None:
    import tomllib

    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert server["maxCacheDataSize"] == "2gb"
    assert server["address"] == "127.0.0.1"


@pytest.mark.parametrize(
    "columns",
    [
        None,
        ["age", "annual_income"],
        ["channel", "region", "age"],
    ],
)
def test_prepared_width_is_the_width_the_model_gets(columns: list[str] | None) -> None:
    df = read_table(ROOT / "sample_data" / "customers.csv")
    profile = profile_columns(df)
    chosen = columns or profile.loc[profile["use"], "column"].tolist()
    seg = segment(df, "kmeans", 2, columns=chosen, n_init=1)
    assert prepared_width(profile, chosen) == seg.X.shape[1]


def test_prepared_width_counts_unprofiled_columns_one_each() -> None:
    profile = pd.DataFrame({"column": ["a"], "role": ["numeric"], "distinct": [5]})
    assert prepared_width(profile, ["a", "b", "c"]) == 3
