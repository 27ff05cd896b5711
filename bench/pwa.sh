#!/usr/bin/env bash
# PWA budget: gzipped size of the app shell (JS + CSS; the ZXing WebAssembly counted apart) and
# Lighthouse performance / accessibility / best-practices scores at 360x640 (mobile emulation)
# in Debian's Chromium. Prints the figures; exits 1 when the shell is over 100 KB gzipped.
#
#   bench/pwa.sh                      # builds if needed, serves pwa/dist with `vite preview`
#   FIELDHAND_URL=http://127.0.0.1:8000/ bench/pwa.sh   # audit a running app instead
#   SKIP_LIGHTHOUSE=1 bench/pwa.sh    # sizes only
set -euo pipefail
cd "$(dirname "$0")/../pwa"
BUDGET_KB=100
CHROME=${FIELDHAND_CHROMIUM:-/usr/bin/chromium}

bash ../scripts/build-pwa.sh >/dev/null

gz() { gzip -9 -c "$1" | wc -c; }
kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }

# The technician app's files: index.html's script and stylesheet and the chunks they load.
mapfile -t shell_files < <(node scripts/shell-files.mjs)
entry_js=$(grep -o 'src="/assets/[^"]*\.js"' dist/index.html | sed 's/src="\/\(.*\)"/\1/')
entry_css=$(grep -o 'href="/assets/[^"]*\.css"' dist/index.html | sed 's/href="\/\(.*\)"/\1/')
initial=0
for f in $entry_js $entry_css; do initial=$((initial + $(gz "dist/$f"))); done
all_js_css=0
for f in "${shell_files[@]}"; do all_js_css=$((all_js_css + $(gz "dist/$f"))); done
wasm=0
for f in dist/assets/*.wasm; do wasm=$((wasm + $(gz "$f"))); done
sw=$(gz dist/sw.js)

echo "PWA bundle (gzip -9):"
echo "  app shell loaded at start (index JS + CSS):  $(kb $initial) KB"
echo "  with its lazy chunks (camera, ZXing glue):    $(kb $all_js_css) KB   (budget ${BUDGET_KB} KB; ${#shell_files[@]} files)"
echo "  ZXing WebAssembly (counted apart):            $(kb $wasm) KB"
echo "  service worker (sw.js):                       $(kb $sw) KB"
over=0
[ "$all_js_css" -le $((BUDGET_KB * 1024)) ] || { echo "  OVER BUDGET" >&2; over=1; }

if [ "${SKIP_LIGHTHOUSE:-}" = 1 ]; then exit $over; fi
if [ ! -x "$CHROME" ]; then echo "Lighthouse skipped: no Chromium at $CHROME" >&2; exit $over; fi

url=${FIELDHAND_URL:-}
preview_pid=""
cleanup() { [ -z "$preview_pid" ] || kill "$preview_pid" 2>/dev/null || true; }
trap cleanup EXIT
if [ -z "$url" ]; then
  port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  npx vite preview --host 127.0.0.1 --port "$port" --strictPort >/dev/null 2>&1 &
  preview_pid=$!
  for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.2; done
  url="http://127.0.0.1:$port/"
fi

out=$(mktemp -d)
CHROME_PATH="$CHROME" npx lighthouse "$url" \
  --quiet --output=json --output-path="$out/report.json" \
  --only-categories=performance,accessibility,best-practices \
  --form-factor=mobile --screenEmulation.mobile --screenEmulation.width=360 --screenEmulation.height=640 \
  --screenEmulation.deviceScaleFactor=2 \
  --chrome-flags="--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run" \
  >/dev/null 2>"$out/lighthouse.log" || { cat "$out/lighthouse.log" >&2; exit 1; }
node -e '
  const r = require(process.argv[1]);
  const c = r.categories, a = r.audits;
  const pct = (k) => Math.round(c[k].score * 100);
  console.log(`Lighthouse (${r.lighthouseVersion}, mobile 360x640, ${r.finalDisplayedUrl}):`);
  console.log(`  performance ${pct("performance")}  accessibility ${pct("accessibility")}  best-practices ${pct("best-practices")}`);
  for (const k of ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift"])
    console.log(`  ${a[k].title}: ${a[k].displayValue}`);
  const failed = Object.values(a).filter((x) => x.score !== null && x.score < 1 && x.scoreDisplayMode === "binary");
  if (failed.length) console.log("  not passed: " + failed.map((x) => x.id).join(", "));
' "$out/report.json"
rm -rf "$out"
exit $over
