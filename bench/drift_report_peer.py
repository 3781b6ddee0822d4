#!/usr/bin/env python3
"""The peer of bench/drift_report.sh: Evidently's default data drift path in numpy/scipy/pandas.

For every column of REF and CUR (numeric CSVs with the same header): drop NaN, n_unique over
both sides, Evidently's _get_default_stattest (n_ref > 1000 here: wasserstein, normed by the
reference's population std, threshold 0.1; jensenshannon for <= 5 distinct values), the decision
d >= threshold, then the share rule (>= 0.5). Prints JSON: the CPU seconds of the computation
alone (CSV reading excluded), of the whole script, and each column's score, for ferry's to be
checked against.

usage: drift_report_peer.py REF.csv CUR.csv
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance, ks_2samp, chisquare


def default_test(numeric, n_ref, n_unique):
    if n_ref <= 1000:
        if numeric:
            return ("chisquare" if n_unique > 2 else "z") if n_unique <= 5 else "ks"
        return "chisquare" if n_unique > 2 else "z"
    if numeric:
        return "jensenshannon" if n_unique <= 5 else "wasserstein"
    return "jensenshannon"


def column_drift(ref, cur):
    ref = ref[np.isfinite(ref)]
    cur = cur[np.isfinite(cur)]
    n_unique = pd.concat([pd.Series(ref), pd.Series(cur)]).nunique()
    test = default_test(True, len(ref), n_unique)
    if test == "wasserstein":
        score = wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
        return test, score, score >= 0.1
    if test == "jensenshannon":
        keys = np.union1d(ref, cur)
        r = np.array([np.sum(ref == k) for k in keys]) / len(ref)
        c = np.array([np.sum(cur == k) for k in keys]) / len(cur)
        score = jensenshannon(r, c)
        return test, score, score >= 0.1
    if test == "ks":
        score = ks_2samp(ref, cur)[1]
        return test, score, score <= 0.05
    raise SystemExit("bench peer: test %s is not used by this benchmark" % test)


def main():
    cpu0 = time.process_time()
    ref = pd.read_csv(sys.argv[1])
    cur = pd.read_csv(sys.argv[2])
    t0 = time.process_time()
    scores = {}
    drifted = 0
    for name in ref.columns:
        test, score, drift = column_drift(ref[name].to_numpy(dtype=float),
                                          cur[name].to_numpy(dtype=float))
        scores[name] = score
        drifted += bool(drift)
    share = drifted / len(ref.columns)
    t1 = time.process_time()
    print(json.dumps({"cpu_compute": t1 - t0, "cpu_total": t1 - cpu0, "n_drifted": drifted,
                      "share": share, "dataset_drift": share >= 0.5, "scores": scores}))


if __name__ == "__main__":
    main()
