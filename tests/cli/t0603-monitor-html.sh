#!/usr/bin/env bash
# ferry monitor report --html on examples/data/drift, checked by Python's own parsers: the page is
# well-formed (xml.etree) and self-contained (no script, no external reference, links only to
# anchors in the page), the table lists every CSV column with the --json verdicts, drifted first,
# the manifest's changed columns among the drifted, chart shares equal to a histogram computed
# here from the CSV, SVG geometry all finite; hostile column names come back exactly through
# html.parser; the model sections; a failed write leaves nothing and a rewrite replaces the file.
. "$(dirname "$0")/lib.sh"

D=$FERRY_SOURCE/examples/data/drift
cp "$D"/reference.csv "$D"/batch_01_nodrift.csv "$D"/batch_02_drift.csv "$D"/manifest.json .

cat >check.py <<'EOF'
import csv, html.parser, json, math, re, sys
import xml.etree.ElementTree as ET

page_path, json_path, ref_csv, cur_csv = sys.argv[1:5]
raw = open(page_path, "rb").read()
text = raw.decode("utf-8")  # strict: invalid UTF-8 fails here
rep = json.load(open(json_path))
errors = []

def check(cond, msg):
    if not cond:
        errors.append(msg)

# ---- well-formed and self-contained ------------------------------------------------------
check(text.startswith("<!DOCTYPE html>\n"), "no doctype")
root = ET.fromstring(text[len("<!DOCTYPE html>\n"):])  # raises on malformed markup
for bad in ("http://", "https://", "url(", "@import", "//"):
    check(bad not in text, "external reference %r" % bad)
ids = {e.get("id") for e in root.iter() if e.get("id")}
for e in root.iter():
    tag = e.tag.lower()
    check(tag not in ("script", "link", "img", "iframe", "object", "embed", "image", "use"),
          "element <%s>" % tag)
    for k, v in e.attrib.items():
        check(not k.lower().startswith("on"), "event handler %s" % k)
        check(k not in ("src", "xlink:href"), "attribute %s" % k)
        if k == "href":
            check(v.startswith("#") and v[1:] in ids, "href %r is not an anchor of the page" % v)

# ---- SVG geometry: every number finite ---------------------------------------------------
num = re.compile(r"-?\d+(?:\.\d+)?")
n_svg = 0
for svg in root.iter("svg"):
    n_svg += 1
    for e in svg.iter():
        for k in ("x", "y", "width", "height", "x1", "y1", "x2", "y2", "viewBox", "d"):
            v = e.get(k)
            if v is None:
                continue
            check(re.fullmatch(r"[0-9.\- MvhVHz]+", v) is not None, "svg %s=%r" % (k, v))
            for n in num.findall(v):
                check(math.isfinite(float(n)), "svg %s=%r" % (k, v))
with_bins = [c for c in rep["columns"] if c.get("chart")]
check(n_svg == len(with_bins) + (1 if (rep.get("prediction_drift") or {}).get("chart") else 0),
      "%d charts for %d columns with bins" % (n_svg, len(with_bins)))

# ---- the table: html.parser gives the link text of each row, unescaped -------------------
class Rows(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self.cell, self.in_table, self.buf = [], None, False, None
    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self.in_table = True
        elif self.in_table and tag == "tr":
            self.rows.append([])
        elif self.in_table and tag == "td":
            self.buf = []
    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_table = False
        elif self.in_table and tag == "td":
            self.rows[-1].append("".join(self.buf))
            self.buf = None
    def handle_data(self, data):
        if self.buf is not None:
            self.buf.append(data)

p = Rows()
p.feed(text)
p.close()
tables = p.rows
header = next(csv.reader(open(ref_csv, newline="", encoding="utf-8")))
drift_rows = [r for r in tables if len(r) == 10]
names = [r[0] for r in drift_rows]
check(sorted(names) == sorted(header), "table columns %r != CSV header %r" % (names, header))
words = {"drift": "drift", "no_drift": "no drift", "insufficient_data": "insufficient data",
         "insufficient": "insufficient data", "skipped": "skipped"}
by_name = {c["name"]: c for c in rep["columns"]}
rank = {"drift": 0, "no drift": 1, "insufficient data": 2, "skipped": 3}
for r in drift_rows:
    c = by_name[r[0]]
    check(r[5] == words[c["verdict"]], "%s: verdict %r, json %r" % (r[0], r[5], c["verdict"]))
ranks = [rank[r[5]] for r in drift_rows]
check(ranks == sorted(ranks), "table not sorted drifted first: %r" % ranks)

# ---- the dataset verdict agrees with --json ----------------------------------------------
if rep["n_tested"]:
    check(("Dataset drift detected" in text) == rep["dataset_drift"], "dataset verdict")
    check("%d of %d tested columns drifted" % (rep["n_drifted"], rep["n_tested"]) in text,
          "drifted count")

# ---- chart shares against a histogram computed here --------------------------------------
def values(path, col):
    out = []
    for row in csv.DictReader(open(path, newline="", encoding="utf-8")):
        v = row[col]
        if v != "":
            out.append(v)
    return out

def esc(s):
    # the five escapes the page promises (html.escape writes &#x27; for the apostrophe)
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))

def tooltips(name):
    sec = re.search(r'<section class="col" id="[^"]+">\n<h3>' + re.escape(esc(name)) + r" .*?</section>",
                    text, re.S)
    check(sec is not None, "no section for %s" % name)
    return re.findall(r"<title>([^<]*): ref ([^,]*)%, cur ([^<]*)%</title>", sec.group(0)) if sec else []

def close(a, b):
    # the page shows %.3g; a value on an edge may fall either side in another float order
    return abs(a - b) <= 0.002 + 0.0005 * abs(b)

for col in sys.argv[5:]:
    kind, name = col.split(":", 1)
    ref, cur = values(ref_csv, name), values(cur_csv, name)
    tips = tooltips(name)
    if kind == "num":
        ref, cur = [float(v) for v in ref], [float(v) for v in cur]
        lo, hi, nb = min(ref + cur), max(ref + cur), len(tips)
        check(nb > 0, "%s: no bins" % name)
        # numpy.linspace(lo, hi, nb + 1) and numpy.histogram's bin search: [a, b), last [a, b]
        step = (hi - lo) / nb
        edges = [i * step + lo for i in range(nb)] + [hi]
        def shares(xs):
            counts = [0] * nb
            for x in xs:
                i = min(int((x - lo) / (hi - lo) * nb), nb - 1)
                if x < edges[i]:
                    i -= 1
                elif i != nb - 1 and x >= edges[i + 1]:
                    i += 1
                counts[i] += 1
            return [c / len(xs) for c in counts]
        rs, cs = shares(ref), shares(cur)
        for i, (label, r_pct, c_pct) in enumerate(tips):
            want = "[%s, %s%s" % ("%.4g" % edges[i], "%.4g" % edges[i + 1], "]" if i == nb - 1 else ")")
            check(label == want, "%s bin %d: %r != %r" % (name, i, label, want))
            check(close(float(r_pct) / 100, rs[i]), "%s bin %d ref %s%% != %.4f" % (name, i, r_pct, rs[i]))
            check(close(float(c_pct) / 100, cs[i]), "%s bin %d cur %s%% != %.4f" % (name, i, c_pct, cs[i]))
    else:
        for label, r_pct, c_pct in tips:
            label = html.unescape(label)
            if label.startswith("other (") or (label == "other" and label not in ref + cur):
                continue  # the rarest categories summed (by the page or by the engine)
            check(close(float(r_pct) / 100, ref.count(label) / len(ref)), "%s=%s ref" % (name, label))
            check(close(float(c_pct) / 100, cur.count(label) / len(cur)), "%s=%s cur" % (name, label))
        check(len(tips) > 0, "%s: no category rows" % name)

if errors:
    print("\n".join(errors[:30]))
    sys.exit(1)
print("ok: %d bytes, %d charts, %d rows" % (len(raw), n_svg, len(drift_rows)))
EOF

# ---- batch 2: drift -------------------------------------------------------------------------
run "$FERRY" monitor report --reference reference.csv --current batch_02_drift.csv --html b2.html --json
echo "$OUT" >b2.json
# 4 of 20 columns drift: below the dataset share, so no dataset drift (the exit code says which)
expect_status "$(jq .exit_code b2.json)"
grep -qF "exit code $STATUS" b2.html || fail "batch 2: exit code meaning"
run python3 check.py b2.html b2.json reference.csv batch_02_drift.csv num:total_day_minutes \
	num:account_length cat:international_plan cat:state
expect_status 0
# the columns the manifest changed are drawn as drifted in the table
for c in $(jq -r '.batches[1].changes[].column' manifest.json); do
	grep -qF "<tr><td><a href=\"#c$(jq --arg c "$c" '[.columns[].name] | index($c)' b2.json)\">$c</a>" \
		b2.html || fail "no table row for $c"
	jq -e --arg c "$c" '.columns[] | select(.name == $c) | .verdict == "drift"' b2.json >/dev/null ||
		fail "$c changed by the manifest but not drifted"
done
size=$(stat -c %s b2.html)
[ "$size" -lt 204800 ] || fail "b2.html is $size bytes for 20 columns"
ok "batch_02: well-formed, self-contained, the --json verdicts drifted first, shares as computed here ($size bytes)"

# ---- batch 1: no drift ----------------------------------------------------------------------
run "$FERRY" monitor report --reference reference.csv --current batch_01_nodrift.csv --html b1.html --json
expect_status 0
echo "$OUT" >b1.json
run python3 check.py b1.html b1.json reference.csv batch_01_nodrift.csv num:total_night_calls \
	cat:voice_mail_plan
expect_status 0
grep -qF "No dataset drift" b1.html || fail "batch 1 verdict"
! grep -qF '<span class="b drift">' b1.html || fail "batch 1 shows a drifted column"
grep -qF "exit code 0" b1.html || fail "batch 1: exit code meaning"
ok "batch_01: no drift shown"

# ---- hostile column names and categories come back exactly through html.parser -------------
python3 - <<'EOF'
import csv, random
names = ['<script>alert("x")</script>', "a&b", "caf\u00e9 \u4e2d\u6587 \U0001F642", "q\"uote'", "plain"]
rnd = random.Random(7)
for path, n, shift in (("hostile_ref.csv", 300, 0), ("hostile_cur.csv", 200, 5)):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(names)
        for _ in range(n):
            w.writerow([rnd.gauss(shift, 1), rnd.choice(["<b>", "&amp;", "x"]),
                        rnd.choice(["\u00e9", "\u4e2d"]), rnd.randint(0, 100), "k"])
EOF
run "$FERRY" monitor report --reference hostile_ref.csv --current hostile_cur.csv --html h.html --json
[ "$STATUS" -eq 0 ] || [ "$STATUS" -eq 3 ] || fail "hostile: exit $STATUS"
echo "$OUT" >h.json
run python3 check.py h.html h.json hostile_ref.csv hostile_cur.csv "cat:a&b"
expect_status 0
! grep -qF '<script>' h.html || fail "raw <script> in the page"
ok "hostile names and categories escaped, read back exactly"

# ---- with a model: prediction drift and quality sections ------------------------------------
run "$FERRY" train --data reference.csv --target churn --out model
expect_status 0
run "$FERRY" monitor report --reference model --current batch_02_drift.csv --html m.html --json
expect_status 3
echo "$OUT" >m.json
grep -qF "exit code 3" m.html || fail "model: exit code meaning"
grep -qF "<h2>Prediction drift</h2>" m.html || fail "no prediction drift section"
grep -qF "<h2>Model quality</h2>" m.html || fail "no quality section"
# every numeric metric of --json is in the table, both sides, as %.4g
python3 - m.json m.html <<'EOF' || fail "quality table"
import json, sys
rep, page = json.load(open(sys.argv[1])), open(sys.argv[2], encoding="utf-8").read()
q = rep["quality"]
for k, v in q["reference"].items():
    w = q["current"].get(k)
    if isinstance(v, (int, float)) and isinstance(w, (int, float)):
        row = '<tr><td>%s</td><td class="n">%s</td><td class="n">%s</td>' % (k, "%.4g" % v, "%.4g" % w)
        assert row in page, row
EOF
ok "model: prediction drift and quality sections"

# ---- writing: a missing directory fails with nothing left; a rewrite replaces the file ------
run "$FERRY" monitor report --reference reference.csv --current batch_01_nodrift.csv --html nodir/r.html
expect_status 1
expect_err_contains "nodir"
[ ! -e nodir ] || fail "nodir created"
cp b2.html again.html
run "$FERRY" monitor report --reference reference.csv --current batch_01_nodrift.csv --html again.html -q
expect_status 0
sed 's/ at [0-9TZ:.-]*//' again.html | cmp -s - <(sed 's/ at [0-9TZ:.-]*//' b1.html) ||
	fail "again.html is not the batch 1 report"
[ -z "$(find . -maxdepth 1 -name '.*.tmp-*')" ] || fail "temporary file left"
ok "a failed write leaves nothing, a rewrite replaces the whole file"

done_testing
