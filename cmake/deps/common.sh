# Shared by the dependency builders (wasm/deps/build.sh, cmake/deps/build-native-srtp.sh): Debian
# source packages at the installed -dev version, built once into a cache keyed by their inputs.
# Source it after defining say() and die(). Every function writes progress to stderr only.

# The source version of an installed package ("" when not installed).
deps_version_of() { dpkg-query -W -f='${source:Version}' "$1" 2>/dev/null || true; }

# deps_cached CACHE KEY: when CACHE/KEY is complete, print it and exit 0. Otherwise take the cache's
# lock (one builder at a time: build dirs may configure concurrently on a cold cache), check again,
# and return with the lock held on fd 9.
deps_cached() {
  local cache="$1" key="$2"
  if [[ -f $cache/$key/.complete ]]; then echo "$cache/$key"; exit 0; fi
  mkdir -p "$cache"
  exec 9>"$cache/.lock"
  flock 9
  if [[ -f $cache/$key/.complete ]]; then echo "$cache/$key"; exit 0; fi
}

# deps_fetch WORKDIR LOGDIR SOURCE VERSION: `apt-get source SOURCE=VERSION` (Debian patches applied)
# into WORKDIR; prints the unpacked directory.
deps_fetch() {
  local work="$1" logs="$2" src="$3" ver="$4" dir
  (cd "$work" && apt-get source -qq "$src=$ver" >"$logs/$src.fetch.log" 2>&1) ||
    die "apt-get source $src=$ver failed (see $logs/$src.fetch.log; ./refrtc setup adds deb-src entries and dpkg-dev)"
  dir="$(find "$work" -maxdepth 1 -mindepth 1 -type d -name "$src-*" | head -1)"
  [[ -d $dir ]] || die "no source directory for $src in $work"
  echo "$dir"
}
