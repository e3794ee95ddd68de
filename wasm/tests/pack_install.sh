#!/usr/bin/env bash
# Issue C acceptance: "`npm pack` output installs in an empty folder and a 20-line script there
# connects to a native refrtc peer."
#
#   bash wasm/tests/pack_install.sh [path/to/refrtc_echo_peer]   (default build/bin/refrtc_echo_peer)
#
# 1. the echo peer's error paths (bad input → exit 2 within a second, no offer → exit 1);
# 2. `npm pack` of wasm/ — run on a snapshot of wasm/ (without node_modules) in a temp dir, so the
#    prepack step (lib/build_browser.js) does not rewrite files in the source tree while others
#    work on it; `files`/`exports` are the package's own, so the tarball is the same;
# 3. the tarball holds the entries package.json points at (main, module, types, browser, exports)
#    plus dist/refrtc_core.cjs, index.{d.ts,mjs,cjs} and lib/;
# 4. `npm init -y` + `npm install <tarball>` in an empty folder, offline, with a private npm cache
#    (the package has no dependencies, so no registry is needed);
# 5. wasm/examples/connect-native.mjs copied there runs against the native echo peer and must
#    print the echo and exit 0 by itself (60 s limit); a CommonJS script (require('refrtc'))
#    does the same with a text and a binary message.
# Exit 77 (ctest skip) only when the WASM core wasm/dist/refrtc_core.cjs has not been built.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ECHO_PEER=${1:-$ROOT/build/bin/refrtc_echo_peer}
WASM=$ROOT/wasm

log() { echo "pack_install: $*"; }
fail() { echo "pack_install: FAIL: $*" >&2; exit 1; }

if [[ ! -f $WASM/dist/refrtc_core.cjs ]]; then
  log "SKIP: $WASM/dist/refrtc_core.cjs not built (cmake --build --preset wasm)"
  exit 77
fi
[[ -x $ECHO_PEER ]] || fail "echo peer $ECHO_PEER not built (cmake --build build --target refrtc_echo_peer)"
ECHO_PEER=$(cd "$(dirname "$ECHO_PEER")" && pwd)/$(basename "$ECHO_PEER")
{ command -v node && command -v npm; } >/dev/null || fail "node and npm are required"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/refrtc-pack.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# Nothing from the environment may make `refrtc` resolve elsewhere than the installed package.
unset NODE_PATH REFRTC_CORE
export npm_config_cache=$TMP/npm-cache npm_config_update_notifier=false npm_config_fund=false \
  npm_config_audit=false npm_config_loglevel=warn

# ---- 1. echo peer error paths ----------------------------------------------------------------
ms() { date +%s%3N; }
expect_exit() {  # expect_exit <status> <max ms> <description> <stdin text | -wait>
  local want=$1 max_ms=$2 what=$3 input=$4 start rc took
  start=$(ms)
  if [[ $input == -wait ]]; then  # stdin stays open and silent: a FIFO we hold open read-write
    mkfifo "$TMP/silent"
    exec 3<>"$TMP/silent"
    REFRTC_ECHO_TIMEOUT=1 timeout 10 "$ECHO_PEER" <&3 >"$TMP/peer.out" 2>"$TMP/peer.err"
    rc=$?
    exec 3>&-
  else
    printf '%s' "$input" | timeout 10 "$ECHO_PEER" >"$TMP/peer.out" 2>"$TMP/peer.err"
    rc=$?
  fi
  took=$(( $(ms) - start ))
  [[ $rc == "$want" ]] || { cat "$TMP/peer.err" >&2; fail "echo peer, $what: exit $rc, want $want"; }
  (( took <= max_ms )) || fail "echo peer, $what: took $took ms (limit $max_ms)"
  [[ -s $TMP/peer.out ]] && fail "echo peer, $what: wrote to stdout: $(head -c 200 "$TMP/peer.out")"
  [[ -s $TMP/peer.err ]] || fail "echo peer, $what: no message on stderr"
  log "echo peer, $what → exit $rc in $took ms: $(head -n1 "$TMP/peer.err")"
}
expect_exit 2 1000 "garbage input" $'this is not json\n'
expect_exit 2 1000 "JSON that is not an offer" $'{"type":"answer","sdp":"v=0\\r\\n"}\n'
expect_exit 2 1000 "offer without sdp" $'{"type":"offer"}\n'
expect_exit 2 1000 "SDP the stack rejects" $'{"type":"offer","sdp":"v=0\\r\\nbogus\\r\\n"}\n'
expect_exit 2 1000 "empty stdin" ''
expect_exit 1 3000 "no offer within REFRTC_ECHO_TIMEOUT=1" -wait

# ---- 2. npm pack ----------------------------------------------------------------------------
mkdir -p "$TMP/stage" "$TMP/pack"
tar -C "$WASM" --exclude=./node_modules -cf - . | tar -C "$TMP/stage" -xf - || fail "copying wasm/"
(cd "$TMP/stage" && npm pack --pack-destination "$TMP/pack" >"$TMP/pack.log" 2>&1) \
  || { cat "$TMP/pack.log" >&2; fail "npm pack failed"; }
shopt -s nullglob
tarballs=("$TMP"/pack/*.tgz)
(( ${#tarballs[@]} == 1 )) || fail "npm pack made ${#tarballs[@]} tarballs"
TARBALL=${tarballs[0]}
log "packed $(basename "$TARBALL") ($(du -k "$TARBALL" | cut -f1) KiB)"

# ---- 3. tarball contents --------------------------------------------------------------------
tar -tzf "$TARBALL" | sed 's,^package/,,' | sort >"$TMP/files.txt" || fail "cannot list $TARBALL"
has() { grep -qxF "$1" "$TMP/files.txt"; }
for f in dist/refrtc_core.cjs index.d.ts index.mjs index.cjs package.json; do
  has "$f" || fail "tarball lacks $f"
done
grep -q '^lib/.*\.js$' "$TMP/files.txt" || fail "tarball lacks lib/"
# Every file lib/ and the entries require()/import relatively must be packed as well.
for f in "$TMP"/stage/lib/*.js; do has "lib/$(basename "$f")" || fail "tarball lacks lib/$(basename "$f")"; done
# Every path package.json points at must be in the tarball (a missing one breaks some consumer).
tar -xzf "$TARBALL" -C "$TMP" package/package.json || fail "no package.json in tarball"
node -e '
  const pkg = require(process.argv[1]);
  const out = new Set();
  const walk = (v) => { if (typeof v === "string") out.add(v.replace(/^\.\//, "")); else if (v && typeof v === "object") Object.values(v).forEach(walk); };
  for (const k of ["main", "module", "types", "typings", "browser", "exports"]) walk(pkg[k]);
  console.log([...out].join("\n"));' "$TMP/package/package.json" >"$TMP/entries.txt" || fail "reading package.json"
while read -r f; do
  [[ -z $f ]] && continue
  has "$f" || fail "package.json refers to $f, which is not in the tarball"
done <"$TMP/entries.txt"
if grep -qE '^(node_modules|tests|src|deps)/' "$TMP/files.txt"; then
  log "note: tarball also holds $(grep -cE '^(node_modules|tests|src|deps)/' "$TMP/files.txt") files under node_modules/tests/src/deps"
fi
log "tarball: $(wc -l <"$TMP/files.txt") files, entries ok: $(tr '\n' ' ' <"$TMP/entries.txt")"

# ---- 4. install in an empty folder ----------------------------------------------------------
APP=$TMP/app
mkdir -p "$APP"
(cd "$APP" && npm init -y >"$TMP/init.log" 2>&1) || { cat "$TMP/init.log" >&2; fail "npm init -y"; }
(cd "$APP" && npm install --offline --no-audit --no-fund "$TARBALL" >"$TMP/install.log" 2>&1) \
  || { cat "$TMP/install.log" >&2; fail "npm install $TARBALL (offline)"; }
[[ -f $APP/node_modules/refrtc/dist/refrtc_core.cjs ]] || fail "installed package lacks dist/refrtc_core.cjs"
resolved=$(cd "$APP" && node -p 'require.resolve("refrtc")') || fail "require.resolve('refrtc') in the app"
[[ $resolved == "$APP/node_modules/refrtc/"* ]] || fail "refrtc resolves to $resolved, not the installed copy"
log "installed in $APP ($(cd "$APP" && node -p 'require("refrtc/package.json").version'))"

# ---- 5. connect to the native peer ----------------------------------------------------------
run_app() {  # run_app <script> <expected line>...
  local script=$1 rc
  shift
  (cd "$APP" && timeout 60 node "$script" "$ECHO_PEER" >"$TMP/run.out" 2>"$TMP/run.err")
  rc=$?
  if (( rc != 0 )); then
    cat "$TMP/run.out" "$TMP/run.err" >&2
    (( rc == 124 )) && fail "$script did not exit within 60 s (it must exit by itself after pc.close())"
    fail "$script exited $rc"
  fi
  for want in "$@"; do
    grep -qxF "$want" "$TMP/run.out" || { cat "$TMP/run.out" "$TMP/run.err" >&2; fail "$script: no line '$want'"; }
  done
  log "$script: ok ($(tr '\n' ' ' <"$TMP/run.out"))"
}

cp "$WASM/examples/connect-native.mjs" "$APP/" || fail "copying connect-native.mjs"
lines=$(wc -l <"$APP/connect-native.mjs")
(( lines <= 25 )) || fail "connect-native.mjs has $lines lines (the example must stay about 20)"
run_app connect-native.mjs "echo: hello from wasm"

# The CommonJS entry from the installed package: await ready, a text and a binary round trip.
cat >"$APP/connect-native.cjs" <<'EOF'
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const { createInterface } = require('node:readline');
const refrtc = require('refrtc');

(async () => {
  await refrtc.ready;
  const peer = spawn(process.argv[2], { stdio: ['pipe', 'pipe', 'inherit'] });
  const pc = new refrtc.RTCPeerConnection();
  const channel = pc.createDataChannel('echo-cjs');
  channel.binaryType = 'arraybuffer';
  const got = [];
  channel.onopen = () => { channel.send('hello from cjs'); channel.send(new Uint8Array([0, 1, 2, 254, 255])); };
  channel.onmessage = ({ data }) => {
    got.push(typeof data === 'string' ? `text: ${data}` : `binary: ${Array.from(new Uint8Array(data)).join(',')}`);
    if (got.length < 2) return;
    got.forEach((l) => console.log(l));
    pc.close();
    peer.stdin.end();
  };
  peer.on('exit', (code) => { console.log(`peer exit: ${code}`); if (code) process.exit(code); });
  await pc.setLocalDescription(await pc.createOffer());
  while (pc.iceGatheringState !== 'complete') await once(pc, 'icegatheringstatechange');
  peer.stdin.write(JSON.stringify(pc.localDescription) + '\n');
  const [answer] = await once(createInterface({ input: peer.stdout }), 'line');
  await pc.setRemoteDescription(JSON.parse(answer));
})().catch((e) => { console.error(e); process.exit(1); });
EOF
run_app connect-native.cjs "text: hello from cjs" "binary: 0,1,2,254,255" "peer exit: 0"

log "PASS"
