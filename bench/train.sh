#!/usr/bin/env bash
# Training and scoring benchmark: ferry train/eval/predict side by side with scikit-learn 1.2.1,
# xgboost 1.7.4 and pandas 1.5.3 (Debian's python3-sklearn, python3-xgboost, python3-pandas), in
# ONE run, on the same inputs, printing RATIOS (peer time / ferry time, > 1: ferry is faster).
# Machines here are shared and noisy: absolute times lie, ratios of runs taken back to back are
# what we quote. This is a benchmark, not a test: nothing here asserts on time. See
# bench/README.md.
#
# usage: bench/train.sh [CASE...]     CASE: logreg xgboost predict (default: all three)
#
#   logreg   examples/data/mlc_churn.csv split 80/20 (stratified, sklearn, seed 42) into
#            train.csv and test.csv, byte for byte. `ferry train --model logreg --cv K` on
#            train.csv against bench/train_peer.py doing the same in sklearn (read_csv, K-fold
#            stratified CV, then ColumnTransformer(median+StandardScaler | most_frequent+
#            OneHotEncoder(ignore)) + LogisticRegression(lbfgs, C=1) fitted on every row, model
#            pickled). With --cv, ferry's seconds.fit is exactly that last fit (preprocessing
#            fitted and applied, then the solver) on all of train.csv; the peer times
#            pipeline.fit on the same rows. Also the whole processes, start to exit, and
#            Python's imports alone. AUC of both models on test.csv, computed by sklearn from
#            each one's probabilities (ferry's from `ferry predict`), and by `ferry eval`.
#   xgboost  the same with `--model xgboost --param nthread=T` against XGBClassifier(100 trees,
#            depth 6, eta 0.3, n_jobs=T) on the float32 matrix ferry builds (columns in input
#            order, categories one-hot in place, sorted; checked against ferry's model.json).
#            Fit = that matrix + XGBClassifier.fit on all of train.csv. Checks that both give
#            identical trees (xgboost's JSON dump of each) and identical predictions on test.csv.
#   predict  a CSV of BENCH_PREDICT_ROWS (1,000,000) rows x 30 numeric features generated in the
#            work directory (breast_cancer rows drawn with replacement, times 1 + N(0, 0.01), 4
#            significant digits); a logreg trained on breast_cancer by each tool; then
#            `ferry predict` against pandas.read_csv + pipeline.predict_proba + to_csv of the
#            same columns. Rows/s of the whole processes (wall and CPU), peak RSS of each.
#
# environment:
#   FERRY=PATH             ferry binary to measure (default: build-bench/ferry, configured and
#                          brought up to date with cmake, Release)
#   BENCH_DIR=DIR          where the temporary work directory is made (default: /tmp); removed
#                          at exit
#   BENCH_RUNS=N           runs of each logreg/xgboost measurement, the tools interleaved, the
#                          median reported (default: 5)
#   BENCH_PREDICT_RUNS=N   runs of the predict case (default: 3)
#   BENCH_PREDICT_ROWS=N   rows of the generated prediction input (default: 1000000)
#   BENCH_THREADS=N        xgboost threads on both sides (default: 1: on the shared 2-CPU VM, two
#                          OpenMP threads made both sides 2-3x slower, not faster)
#   BENCH_FOLDS=K          cross-validation folds of the training runs (default: 2)
#   BENCH_NO_INSTALL=1     do not apt-get missing packages; fail instead
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${BENCH_RUNS:-5}
PRUNS=${BENCH_PREDICT_RUNS:-3}
PROWS=${BENCH_PREDICT_ROWS:-1000000}
THREADS=${BENCH_THREADS:-1}
FOLDS=${BENCH_FOLDS:-2}
PYTHON=/usr/bin/python3 # Debian's, which python3-sklearn and friends install into
PEER=$ROOT/bench/train_peer.py
DATA=$ROOT/examples/data
SEED=42
ALL_CASES="logreg xgboost predict"

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# in_range NAME VALUE MIN MAX: VALUE must be an integer from MIN to MAX
in_range() {
	[[ $2 =~ ^[1-9][0-9]*$ ]] && (($2 >= $3 && $2 <= $4)) && return 0
	die "$1 must be an integer from $3 to $4, not '$2'"
}
in_range BENCH_RUNS "$RUNS" 1 15
in_range BENCH_PREDICT_RUNS "$PRUNS" 1 15
in_range BENCH_PREDICT_ROWS "$PROWS" 1 20000000
in_range BENCH_THREADS "$THREADS" 1 256
in_range BENCH_FOLDS "$FOLDS" 2 10

CASES=${*:-$ALL_CASES}
for c in $CASES; do
	[[ " $ALL_CASES " == *" $c "* ]] || die "unknown case '$c' (expected: $ALL_CASES)"
done
want() { [[ " $CASES " == *" $1 "* ]]; }

# Peers and ferry -------------------------------------------------------------------------------

. "$(dirname "$0")/lib.sh"
ensure_packages python3 python3-numpy python3-pandas python3-sklearn python3-xgboost jq time

if [ -z "${FERRY:-}" ]; then
	build=$ROOT/build-bench
	"$ROOT/scripts/deps.sh"
	if [ ! -f "$build/CMakeCache.txt" ]; then
		log "configuring $build (Release)"
		cmake -S "$ROOT" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
	fi
	cmake --build "$build" -j"$(nproc)" --target ferry >&2
	FERRY=$build/ferry
fi
[ -x "$FERRY" ] || die "FERRY='$FERRY' is not an executable"
FERRY=$(readlink -f "$FERRY")

parent=${BENCH_DIR:-/tmp}
mkdir -p "$parent"
W=$(mktemp -d "$parent/ferry-bench-train.XXXXXX")
LOG=$W/commands.log
trap 'rm -rf "$W"' EXIT

# Timing ----------------------------------------------------------------------------------------

# timed PREFIX DIR CMD...: runs CMD in DIR under GNU time, stdout to PREFIX.out, stderr to the
# log; sets WALL (seconds, from the shell's clock), CPU (user + system) and RSS (peak KiB).
# A failing command stops the benchmark.
timed() {
	local prefix=$1 dir=$2 t0 t1 rc=0
	shift 2
	echo "### $dir: $*" >>"$LOG"
	t0=$EPOCHREALTIME
	(cd "$dir" && exec /usr/bin/time -f '%U %S %M' -o "$prefix.time" "$@") \
		>"$prefix.out" 2>>"$LOG" || rc=$?
	t1=$EPOCHREALTIME
	if [ "$rc" -ne 0 ]; then
		tail -n 20 "$LOG" >&2
		die "'$*' failed (exit $rc)"
	fi
	WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	read -r CPU RSS < <(awk '{ printf "%.2f %d\n", $1 + $2, $3 }' "$prefix.time")
}

# runs an untimed step, its stdout to stdout, stopping the benchmark if it fails
quiet() {
	echo "### $*" >>"$LOG"
	"$@" 2>>"$LOG" || {
		tail -n 20 "$LOG" >&2
		die "'$*' failed"
	}
}

median() {
	printf '%s\n' "$@" | sort -g |
		awk '{ v[NR] = $1 } END { n = NR; if (n % 2) print v[(n + 1) / 2];
			else printf "%.6g\n", (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

j() { jq -r "$1" "$2"; } # j FILTER FILE

ROWS=()   # timing table: name|peer|peer value|ferry value|ratio|target|met
CHECKS=() # result checks: lines of text

fmt() { awk -v s="$1" 'BEGIN { printf (s < 0.1 ? "%.4f" : (s < 10 ? "%.3f" : "%.1f")), s }'; }

# row NAME PEER PEER_S FERRY_S TARGET: TARGET is "noslower" (ratio >= 1), "within:X" (ferry <=
# X times the peer) or "-"; ratio = peer / ferry
row() {
	local name=$1 peer=$2 ps=$3 fs=$4 target=$5 ratio met=- tdesc=-
	ratio=$(awk -v p="$ps" -v f="$fs" 'BEGIN { printf "%.2fx", p / f }')
	case $target in
	noslower)
		tdesc="ferry <= peer"
		met=$(awk -v p="$ps" -v f="$fs" 'BEGIN { print (f <= p) ? "yes" : "no" }')
		;;
	within:*)
		tdesc="ferry <= ${target#*:}x peer"
		met=$(awk -v p="$ps" -v f="$fs" -v x="${target#*:}" 'BEGIN { print (f <= x * p) ? "yes" : "no" }')
		;;
	-) ;;
	*) die "bad target '$target'" ;;
	esac
	ROWS+=("$name|$peer|$(fmt "$ps")|$(fmt "$fs")|$ratio|$tdesc|$met")
	log "  => $name: $peer $(fmt "$ps") s, ferry $(fmt "$fs") s, ratio $ratio, met: $met"
}

check() {
	CHECKS+=("$*")
	log "  => $*"
}

# Cases -----------------------------------------------------------------------------------------

SPLIT_DONE=
split_churn() {
	[ -n "$SPLIT_DONE" ] && return 0
	mkdir -p "$W/churn"
	quiet "$PYTHON" "$PEER" split "$DATA/mlc_churn.csv" churn "$SEED" \
		"$W/churn/train.csv" "$W/churn/test.csv" >>"$LOG"
	SPLIT_DONE=1
}

# train_case KIND LABEL PEER_NAME [FERRY PARAM...]: RUNS interleaved runs of both trainers on
# train.csv, then the checks on test.csv with the last run's models
train_case() {
	local kind=$1 label=$2 peer_name=$3 d=$W/$1 r fx px
	shift 3
	local fparams=("$@") ffit=() fwall=() pfit=() pwall=() pimp=() pnet=() pbooster=()
	split_churn
	mkdir -p "$d"
	log "[$kind] mlc_churn train.csv (4000 rows): ferry train --cv $FOLDS vs $peer_name, $RUNS runs"
	for ((r = 1; r <= RUNS; r++)); do
		# alternate which tool goes first, so neither always runs on a warmer machine
		local order="ferry peer"
		((r % 2)) || order="peer ferry"
		for side in $order; do
			if [ "$side" = ferry ]; then
				timed "$d/f$r" "$W/churn" "$FERRY" train --data train.csv --target churn \
					--model "$kind" "${fparams[@]}" --cv "$FOLDS" --seed "$SEED" --json \
					--out "$d/ferry$r"
				ffit+=("$(j .seconds.fit "$d/f$r.out")")
				fwall+=("$WALL")
			else
				timed "$d/p$r" "$W/churn" "$PYTHON" "$PEER" fit "$kind" train.csv churn \
					"$d/peer$r" "$FOLDS" "$SEED" "$THREADS"
				pfit+=("$(j .seconds.fit "$d/p$r.out")")
				pimp+=("$(j .seconds.import "$d/p$r.out")")
				pnet+=("$(awk -v w="$WALL" -v i="${pimp[-1]}" 'BEGIN { print w - i }')")
				pwall+=("$WALL")
				[ "$kind" = logreg ] || pbooster+=("$(j .seconds.fit_booster "$d/p$r.out")")
			fi
		done
		log "  run $r: fit ferry ${ffit[-1]} peer ${pfit[-1]}; whole ferry ${fwall[-1]} peer ${pwall[-1]} (imports ${pimp[-1]})"
	done
	local fm pm
	fm=$(median "${ffit[@]}") pm=$(median "${pfit[@]}")
	if [ "$kind" = logreg ]; then
		row "$label fit (preprocessing + solver, 4000 rows)" "sklearn pipeline.fit" "$pm" "$fm" noslower
	else
		row "$label fit (matrix + boosting, 4000 rows)" "matrix + XGBClassifier.fit" "$pm" "$fm" within:1.1
		row "$label fit, peer's boosting alone" "XGBClassifier.fit" "$(median "${pbooster[@]}")" "$fm" -
	fi
	row "$label whole command (train --cv $FOLDS)" "python3 script" "$(median "${pwall[@]}")" \
		"$(median "${fwall[@]}")" -
	row "$label whole command, Python imports excluded" "python3 script - imports" \
		"$(median "${pnet[@]}")" "$(median "${fwall[@]}")" -
	check "$label: Python's imports alone take $(fmt "$(median "${pimp[@]}")") s (median)"

	# the checks, on the last run's models
	fx=$d/ferry$RUNS px=$d/peer$RUNS
	quiet "$FERRY" predict "$fx" --data "$W/churn/test.csv" --out "$d/ferry-test.csv" >>"$LOG"
	quiet "$FERRY" eval "$fx" --data "$W/churn/test.csv" --json >"$d/eval.json"
	quiet "$PYTHON" "$PEER" score "$px" "$W/churn/test.csv" churn "$d/ferry-test.csv" "$fx" \
		>"$d/score.json"
	local fa pa ea
	fa=$(j .ferry_roc_auc "$d/score.json") pa=$(j .peer_roc_auc "$d/score.json")
	ea=$(j .metrics.roc_auc "$d/eval.json")
	check "$label: ROC AUC on test.csv (1000 rows): ferry $(printf %.4f "$fa") (ferry eval: $(printf %.4f "$ea")), peer $(printf %.4f "$pa"), difference $(awk -v a="$fa" -v b="$pa" 'BEGIN { d = a - b; printf "%+.5f (target |d| <= 0.01: %s)", d, (d <= 0.01 && d >= -0.01) ? "met" : "MISSED" }')"
	if [ "$kind" = logreg ]; then
		check "$label: largest difference between the two models' probabilities on test.csv: $(j .max_abs_diff "$d/score.json")"
		check "$label: iterations: ferry $(j .trainer.iterations "$d/f$RUNS.out") (converged: $(j .trainer.converged "$d/f$RUNS.out")), sklearn $(j .iterations "$d/p$RUNS.out") of max_iter $(j .max_iter "$d/p$RUNS.out")"
	else
		check "$label: peer's matrix has ferry's columns: $(j .same_columns_as_ferry "$d/score.json")"
		check "$label: identical trees: $(j .identical_trees "$d/score.json") of $(j .trees "$d/score.json") (ferry has $(j .ferry_trees "$d/score.json")); identical predictions (as float32, what xgboost computes): $(j .identical_predictions "$d/score.json") of $(j .rows "$d/score.json")"
	fi
}

case_logreg() {
	train_case logreg logreg "sklearn LogisticRegression(lbfgs, C=1) pipeline"
}

case_xgboost() {
	train_case xgboost "xgboost (nthread $THREADS)" "XGBClassifier(n_jobs=$THREADS)" \
		--param nthread="$THREADS" --param n_estimators=100 --param max_depth=6 --param eta=0.3
}

case_predict() {
	local d=$W/predict r fw=() fc=() fr=() pw=() pc=() pr=() pread=() ppred=() pwrite=() out
	mkdir -p "$d"
	log "[predict] generating $PROWS rows x 30 features from breast_cancer"
	quiet "$PYTHON" "$PEER" gen "$DATA/breast_cancer.csv" target "$PROWS" 7 "$d/big.csv" \
		>"$d/gen.json"
	log "  $(j .bytes "$d/gen.json") bytes"
	quiet "$FERRY" train --data "$DATA/breast_cancer.csv" --target target --model logreg \
		--cv "$FOLDS" --seed "$SEED" --json --out "$d/ferry-model" >"$d/ferry-train.json"
	quiet "$PYTHON" "$PEER" fit logreg "$DATA/breast_cancer.csv" target "$d/peer-model" \
		"$FOLDS" "$SEED" 1 >"$d/peer-train.json"
	cat "$d/big.csv" >/dev/null # in the page cache for both
	for ((r = 1; r <= PRUNS; r++)); do
		local order="ferry peer"
		((r % 2)) || order="peer ferry"
		for side in $order; do
			out=$d/$side-preds.csv
			rm -f "$out"
			if [ "$side" = ferry ]; then
				timed "$d/f$r" "$d" "$FERRY" predict ferry-model --data big.csv --out "$out"
				fw+=("$WALL") fc+=("$CPU") fr+=("$RSS")
			else
				timed "$d/p$r" "$d" "$PYTHON" "$PEER" predict peer-model big.csv "$out"
				pw+=("$WALL") pc+=("$CPU") pr+=("$RSS")
				pread+=("$(j .seconds.read "$d/p$r.out")")
				ppred+=("$(j .seconds.predict "$d/p$r.out")")
				pwrite+=("$(j .seconds.write "$d/p$r.out")")
			fi
		done
		log "  run $r: ferry ${fw[-1]} s (cpu ${fc[-1]}, rss ${fr[-1]} KiB), pandas+sklearn ${pw[-1]} s (cpu ${pc[-1]}, rss ${pr[-1]} KiB)"
	done
	local fwm pwm fcm pcm
	fwm=$(median "${fw[@]}") pwm=$(median "${pw[@]}") fcm=$(median "${fc[@]}") pcm=$(median "${pc[@]}")
	row "predict $PROWS rows x 30, wall" "read_csv+predict_proba+to_csv" "$pwm" "$fwm" -
	row "predict $PROWS rows x 30, CPU (user+sys)" "read_csv+predict_proba+to_csv" "$pcm" "$fcm" -
	local rate_w rate_c
	rate_w=$(awk -v n="$PROWS" -v s="$fwm" 'BEGIN { printf "%.0f", n / s }')
	rate_c=$(awk -v n="$PROWS" -v s="$fcm" 'BEGIN { printf "%.0f", n / s }')
	check "predict: ferry $rate_w rows/s wall, $rate_c rows/s of CPU time (target >= 1000000 rows/s: $(awk -v r="$rate_w" 'BEGIN { print (r >= 1e6) ? "met" : "MISSED" }')); pandas+sklearn $(awk -v n="$PROWS" -v s="$pwm" 'BEGIN { printf "%.0f", n / s }') rows/s wall"
	check "predict: peer's phases (median s): read_csv $(fmt "$(median "${pread[@]}")"), predict_proba $(fmt "$(median "${ppred[@]}")"), to_csv $(fmt "$(median "${pwrite[@]}")")"
	check "predict: peak RSS: ferry $(median "${fr[@]}") KiB, pandas+sklearn $(median "${pr[@]}") KiB (input $(j .bytes "$d/gen.json") bytes)"
	quiet "$PYTHON" "$PEER" compare "$d/peer-preds.csv" "$d/ferry-preds.csv" >"$d/compare.json"
	check "predict: same output shape: $(j .same_shape "$d/compare.json"); same labels: $(j .same_labels "$d/compare.json") of $(j .rows "$d/compare.json"); largest probability difference $(j .max_abs_diff "$d/compare.json") (two independently fitted models)"
}

# Run -------------------------------------------------------------------------------------------

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$EPOCHREALTIME
log "work directory $W; log: $LOG"
for c in $ALL_CASES; do
	if want "$c"; then
		"case_$c"
	fi
done

# Report ----------------------------------------------------------------------------------------

cpu=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n 1)
echo
echo "ferry training benchmark, $started ($(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s)"
echo "  machine: $(nproc) CPUs ($cpu), kernel $(uname -r), load $load0 -> $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  ferry: $FERRY ($("$FERRY" version | head -n 1);" \
	"tree $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown))"
echo "  peers: $("$PYTHON" -c 'import sklearn, xgboost, pandas, numpy, sys
print("python %s, scikit-learn %s, xgboost %s, pandas %s, numpy %s" % (sys.version.split()[0],
      sklearn.__version__, xgboost.__version__, pandas.__version__, numpy.__version__))')"
echo "  median of $RUNS runs (predict: $PRUNS), tools interleaved; ratio = peer s / ferry s (> 1: ferry faster)"
echo
echo "| case | peer | peer s | ferry s | ratio | target | met? |"
echo "|---|---|---:|---:|---:|---|---|"
for line in "${ROWS[@]}"; do
	IFS='|' read -r name peer ps fs ratio target met <<<"$line"
	echo "| $name | $peer | $ps | $fs | $ratio | $target | $met |"
done
echo
for c in "${CHECKS[@]}"; do
	echo "- $c"
done
