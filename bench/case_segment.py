"""segment(method="gmm") with its defaults vs one plain scikit-learn GaussianMixture fit."""

from __future__ import annotations

import pandas as pd
from sklearn.datasets import make_blobs
from sklearn.mixture import GaussianMixture

from analytics import segment
from analytics.preparation import prepare
from bench.common import measure, row


def cases(quick: bool) -> list[dict]:
    n = 100_000 if quick else 1_000_000
    X, _ = make_blobs(n_samples=n, n_features=10, centers=8, cluster_std=1.5, random_state=1)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(10)])
    ours = measure(lambda: segment(df, "gmm", 8, random_state=0))
    Xp, _ = prepare(df)

    def plain() -> GaussianMixture:
        gm = GaussianMixture(8, n_init=1, random_state=0).fit(Xp)
        gm.predict_proba(Xp)
        return gm

    ref = measure(plain)
    seg, gm = ours.value, ref.value
    ll_ours = seg.summary["log_likelihood"] / n
    ll_ref = float(gm.score(Xp))
    prepared_mb = Xp.nbytes / 2**20
    return [
        row(
            f"segment(gmm, k=8) {n:,}x10 vs one GaussianMixture fit",
            ours,
            ref,
            f"{seg.summary['n_iter']} vs {gm.n_iter_}",
            f"{seg.summary.get('strategy', '')}; mean log-lik ours {ll_ours:.4f} vs {ll_ref:.4f}; "
            f"peak/prepared matrix = {ours.peak_mb / prepared_mb:.2f}x",
        )
    ]


if __name__ == "__main__":
    print(pd.DataFrame(cases(quick=True)).to_string())
