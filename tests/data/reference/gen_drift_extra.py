#!/usr/bin/python3
"""Extra drift reference values for tests/unit/test_drift_stats.c, where drift_vectors.json is thin.

Writes tests/data/reference/drift_extra.json from Debian bookworm's python3-scipy 1.10.1 and
python3-numpy 1.24.2 (seeded, so a rerun gives the same file):
  ks_cases   scipy.stats.ks_2samp two-sided with method auto, exact and asymp: n1 != n2 with ties
             up to ~10000, n1 == n2 large, the auto switch at max(n1, n2) = 10000 / 10001, the
             exact request falling back to asymp when lcm(n1, n2) is too big, tiny and degenerate
             samples. Values are rounded to few digits so ties occur and the file stays small.
  kstwo_sf   scipy.stats.kstwo.sf(d, n) over a grid of n from 1 to 1e9 and d from 0 to 1, so that
             every branch of scipy's _kolmogn (Ruben-Gambino, Durbin matrix, Pomeranz, Pelz-Good,
             Smirnov sum and its large-n approximation) is hit.
  binning    numpy.histogram_bin_edges(ref + cur, 'sturges') and numpy.histogram(x, edges) as
             Evidently's get_binned_data calls them, or one bin per distinct value when the
             reference has <= 20 distinct values: values exactly on edges, decimal values next to
             inexact edges, all-equal samples, 20 / 21 distinct reference values, an outlier in
             the current sample.
Run: /usr/bin/python3 tests/data/reference/gen_drift_extra.py (from the repository root).
"""
import json
import os
import warnings

import numpy as np
import scipy
from scipy.stats import ks_2samp, kstwo

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "drift_extra.json")


def num(x):
    x = float(x)
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == int(x) and abs(x) < 1e15:
        return int(x)  # shorter; the same value for every JSON reader
    return x


def ks_case(name, a, b, note):
    out = {"name": name, "note": note, "n_ref": len(a), "n_cur": len(b),
           "ref": [num(v) for v in a], "cur": [num(v) for v in b]}
    for method in ("auto", "exact", "asymp"):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            r = ks_2samp(a, b, method=method)
        fell_back = any("asymp" in str(x.message) for x in w)
        out[method] = {"statistic": num(r.statistic), "pvalue": num(r.pvalue),
                       "fell_back_to_asymp": fell_back}
    out["auto_mode"] = "exact" if max(len(a), len(b)) <= 10000 else "asymp"
    return out


def ks_cases(rng):
    c = []
    r2 = lambda x: np.round(x, 2)
    c.append(ks_case("ties_7000_9000", r2(rng.normal(0, 1, 7000)), r2(rng.normal(0.03, 1, 9000)),
                     "n1 != n2, two-decimal values (many ties), exact path counting"))
    c.append(ks_case("equal_3000_3000", r2(rng.normal(0, 1, 3000)), r2(rng.normal(0.05, 1, 3000)),
                     "n1 == n2 large: _compute_prob_outside_square"))
    c.append(ks_case("auto_exact_10000_9999", r2(rng.normal(0, 1, 10000)),
                     r2(rng.normal(0.02, 1, 9999)), "max(n1, n2) = 10000: auto is exact"))
    c.append(ks_case("auto_asymp_10001_800", r2(rng.normal(0, 1, 10001)),
                     r2(rng.normal(0.1, 1, 800)), "max(n1, n2) = 10001: auto is asymp"))
    c.append(ks_case("primes_9973_9967", r2(rng.normal(0, 1, 9973)), r2(rng.normal(0, 1.05, 9967)),
                     "coprime sizes: lcm ~ 1e8, the largest lattice"))
    c.append(ks_case("exact_too_big_46349_46348", rng.poisson(8, 46349).astype(float),
                     rng.poisson(8.05, 46348).astype(float),
                     "method='exact' with lcm >= 2^31: scipy warns and uses asymp"))
    c.append(ks_case("shift_250_4000", r2(rng.normal(0, 1, 250)), r2(rng.normal(0.3, 1.2, 4000)),
                     "unequal sizes, clear drift"))
    c.append(ks_case("one_vs_one", np.array([1.0]), np.array([2.0]), "smallest samples"))
    c.append(ks_case("one_vs_three", np.array([1.0]), np.array([0.0, 1.0, 2.0]),
                     "tie across samples"))
    c.append(ks_case("identical_2_2", np.array([3.0, 4.0]), np.array([4.0, 3.0]), "D = 0, p = 1"))
    c.append(ks_case("disjoint_10_15", np.arange(10, dtype=float),
                     np.arange(100, 115, dtype=float), "D = 1"))
    c.append(ks_case("constant_both_40_60", np.full(40, 7.0), np.full(60, 7.0), "D = 0"))
    c.append(ks_case("negative_17_23", r2(rng.normal(-5, 2, 17)), r2(rng.normal(-4, 2, 23)),
                     "small, negative values"))
    return c


def kstwo_grid(rng):
    rows = []
    ns = [1, 2, 3, 5, 10, 37, 100, 140, 141, 500, 1000, 5000, 20000, 100000, 100001, 300000,
          1000000, 1000001, 10000000, 1000000000]
    for n in ns:
        ds = [0.0, 1e-12, 0.25 / n, 0.5 / n, 0.5 / n * (1 + 1e-9), 0.75 / n, 1.0 / n, 1.5 / n,
              0.2, 0.49, 0.5, 0.51, 0.9, 1 - 1.5 / n, 1 - 1.0 / n, 0.999999, 1.0]
        ds += [float(np.sqrt(c / n)) for c in (0.05, 0.3, 0.754, 0.76, 1.0, 2.0, 2.19, 2.21, 3.9,
                                               4.1, 10.0, 17.9, 18.1, 100.0, 369.0, 371.0)]
        ds += [float(v) for v in rng.uniform(0, min(1.0, 6 / np.sqrt(n)), 6)]
        for d in ds:
            if 0 <= d <= 1:
                rows.append([num(d), n, num(kstwo.sf(d, n))])
    return rows


def histogram_case(name, ref, cur, note):
    ref = np.asarray(ref, dtype=float)
    cur = np.asarray(cur, dtype=float)
    out = {"name": name, "note": note, "ref": [num(v) for v in ref], "cur": [num(v) for v in cur]}
    if len(np.unique(ref)) > 20:
        edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        out["method"] = "sturges"
        out["bin_edges"] = [num(v) for v in edges]
        out["keys"] = None
        out["ref_counts"] = [int(v) for v in np.histogram(ref, edges)[0]]
        out["cur_counts"] = [int(v) for v in np.histogram(cur, edges)[0]]
    else:
        keys = np.unique(np.concatenate([ref, cur]))
        out["method"] = "per_value"
        out["bin_edges"] = None
        out["keys"] = [num(v) for v in keys]
        out["ref_counts"] = [int((ref == k).sum()) for k in keys]
        out["cur_counts"] = [int((cur == k).sum()) for k in keys]
    out["n_bins"] = len(out["ref_counts"])
    return out


def binning_cases(rng):
    c = []
    ints = np.arange(41, dtype=float)
    c.append(histogram_case("integers_on_edges", ints, ints,
                            "82 values 0..40: 8 bins, edges 0, 5, ..., 40 hit by values"))
    tenths = np.array([i * 0.1 for i in range(30)])
    c.append(histogram_case("tenths_inexact_edges", tenths, tenths[::-1] + 0.0,
                            "decimal values next to edges that are not exact in binary"))
    c.append(histogram_case("all_equal", np.full(50, 2.5), np.full(30, 2.5),
                            "one distinct value: one per-value bin"))
    c.append(histogram_case("ref_20_distinct", np.repeat(np.arange(20.0), 3), np.arange(25.0),
                            "20 distinct reference values: per value, keys of ref and cur"))
    c.append(histogram_case("ref_21_distinct", np.repeat(np.arange(21.0), 3), np.arange(25.0),
                            "21 distinct reference values: Sturges"))
    c.append(histogram_case("outlier_in_current", np.round(rng.normal(0, 1, 300), 3),
                            np.append(np.round(rng.normal(0, 1, 299), 3), 50.0),
                            "one current outlier stretches every bin"))
    c.append(histogram_case("negative_wide", np.round(rng.normal(-1e6, 3e5, 700), 1),
                            np.round(rng.normal(-0.9e6, 3e5, 500), 1), "large negative values"))
    c.append(histogram_case("max_in_ref_only", np.linspace(-1, 1, 64), np.linspace(-0.5, 0.5, 33),
                            "last edge from the reference; both ends exactly on edges"))
    return c


def main():
    rng = np.random.default_rng(20261124)
    doc = {
        "generator": "tests/data/reference/gen_drift_extra.py (seeded numpy default_rng(20261124))",
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__},
        "conventions": {
            "ks": "scipy.stats.ks_2samp(ref, cur, method=...) two-sided; fell_back_to_asymp: "
                  "scipy warned and used asymp",
            "kstwo_sf": "rows [d, n, scipy.stats.kstwo.sf(d, n)]",
            "binning": "as drift_vectors.json: Sturges over ref+cur when ref has > 20 distinct "
                       "values (np.histogram with the edge array), else one bin per distinct value",
            "non_finite": "inf/-inf/nan as strings",
        },
        "ks_cases": ks_cases(rng),
        "kstwo_sf": kstwo_grid(rng),
        "binning": binning_cases(rng),
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, allow_nan=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
