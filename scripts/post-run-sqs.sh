#!/usr/bin/env bash
# Seqera Platform post-run launcher: downloads the bundled post-run script (dist/post_run_sqs.js),
# verifies its SHA-256 against dist/post_run_sqs.js.sha256, and runs it with Node.js, passing
# through this script's arguments and environment and exiting with the bundle's exit code.
# Without Node.js 20+ on PATH it downloads an official Node.js build and verifies it against
# the release's SHASUMS256.txt first. Everything lives in one private temporary directory that
# is removed on exit. Meant to be piped into bash from Seqera's post-run field:
#   curl -fsSL --retry 3 https://raw.githubusercontent.com/<repo>/<ref>/scripts/post-run-sqs.sh \
#     | POST_RUN_SQS_REPO=<repo> POST_RUN_SQS_REF=<ref> bash
#
# Settings (environment variables):
#   POST_RUN_SQS_REPO          GitHub repository holding the bundle   (default data-yaml/seqera-smoke-test)
#   POST_RUN_SQS_REF           branch, tag or commit of that repository (default main)
#   POST_RUN_SQS_BASE_URL      where dist/ is fetched from, as a whole
#                              (default https://raw.githubusercontent.com/$POST_RUN_SQS_REPO/$POST_RUN_SQS_REF)
#   POST_RUN_SQS_NODE_MIRROR   Node.js download mirror                (default https://nodejs.org/dist)
#   POST_RUN_SQS_NODE_VERSION  Node.js version downloaded when needed (default below)
#
# Exit codes: the bundle's own (0 message sent, 1 not sent, ...); 2 invalid setting;
# 3 a download failed; 4 a checksum did not match; 5 a required tool or a usable Node.js is missing;
# 128+N when stopped by signal N. Nothing is run unless every checksum matched.
#
# Everything happens inside main(), called on the last line, so that a truncated download of this
# file runs nothing, and bash has read the whole script before anything reads standard input.

set -euo pipefail

readonly DEFAULT_REPO="data-yaml/seqera-smoke-test"
readonly DEFAULT_REF="main"
readonly DEFAULT_NODE_MIRROR="https://nodejs.org/dist"
readonly DEFAULT_NODE_VERSION="v24.22.3"
readonly MIN_NODE_MAJOR=20
readonly BUNDLE_PATH="dist/post_run_sqs.js"

readonly EXIT_CONFIG=2 EXIT_DOWNLOAD=3 EXIT_CHECKSUM=4 EXIT_MISSING=5

work_dir=""
child_pid=""

log() { printf 'post-run-sqs: %s\n' "$*" >&2; }

# fail CODE WHAT [WHAT-TO-DO]: one ERROR line on stderr, then exit CODE.
fail() {
  local code=$1 what=$2 todo=${3:-}
  printf 'ERROR: post-run-sqs: %s%s\n' "$what" "${todo:+ $todo}" >&2
  exit "$code"
}

# A URL as it may be printed: any user:password@ part is hidden.
printable_url() {
  local url=$1
  if [[ $url =~ ^([a-zA-Z]+://)[^/@]*@(.*)$ ]]; then
    url="${BASH_REMATCH[1]}***@${BASH_REMATCH[2]}"
  fi
  printf '%s' "$url"
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [[ -n $work_dir && -d $work_dir ]]; then
    rm -rf -- "$work_dir"
  fi
}

# on_signal NAME NUMBER: pass the signal on to the running bundle, wait for it, exit 128+NUMBER
# (the EXIT trap then removes the temporary directory).
# shellcheck disable=SC2317 # called by the signal traps
on_signal() {
  local name=$1 number=$2
  trap - "$name"
  if [[ -n $child_pid ]] && kill -0 "$child_pid" 2>/dev/null; then
    kill -s "$name" "$child_pid" 2>/dev/null || true
    wait "$child_pid" 2>/dev/null || true
  fi
  log "stopped by SIG$name"
  exit $((128 + number))
}

# fetch URL DEST WHAT MAX_SECONDS: download URL to DEST; on failure an ERROR line and exit 3.
# Each attempt stops after MAX_SECONDS and no retry starts after MAX_SECONDS, so the whole download
# takes at most twice that. curl runs in the background so that a signal is handled at once.
fetch() {
  local url=$1 dest=$2 what=$3 max_time=$4 status=0
  curl --fail --silent --show-error --location --proto '=https,http' \
    --retry 3 --retry-delay 2 --retry-max-time "$max_time" --connect-timeout 20 --max-time "$max_time" \
    --output "$dest" -- "$url" &
  child_pid=$!
  wait "$child_pid" || status=$?
  child_pid=""
  if ((status != 0)); then
    fail "$EXIT_DOWNLOAD" "could not download $what from $(printable_url "$url") (curl exit code $status)." \
      "${FETCH_HINT:-Check the URL and that this machine can reach it.}"
  fi
}

sha256_of() {
  local out
  if command -v sha256sum >/dev/null 2>&1; then
    out=$(sha256sum <"$1")
  elif command -v shasum >/dev/null 2>&1; then
    out=$(shasum -a 256 <"$1")
  else
    fail "$EXIT_MISSING" "neither sha256sum nor shasum is installed, so downloads cannot be verified." \
      "Install coreutils (sha256sum) or perl (shasum) in the image."
  fi
  printf '%s' "${out%% *}" | tr 'A-F' 'a-f'
}

# is_sha256 TEXT: true when TEXT is 64 hex digits.
is_sha256() { [[ $1 =~ ^[0-9a-fA-F]{64}$ ]]; }

# node_major NODE: the major version of that node binary, or nothing if it does not run.
node_major() {
  local version
  version=$("$1" --version 2>/dev/null) || return 0
  if [[ $version =~ ^v([0-9]+)\. ]]; then
    printf '%s' "$((10#${BASH_REMATCH[1]}))"
  fi
}

# Sets the settings from the environment and checks them; exit 2 on a malformed value.
read_settings() {
  repo=${POST_RUN_SQS_REPO:-$DEFAULT_REPO}
  ref=${POST_RUN_SQS_REF:-$DEFAULT_REF}
  base_url=${POST_RUN_SQS_BASE_URL:-https://raw.githubusercontent.com/$repo/$ref}
  node_mirror=${POST_RUN_SQS_NODE_MIRROR:-$DEFAULT_NODE_MIRROR}
  node_version=${POST_RUN_SQS_NODE_VERSION:-$DEFAULT_NODE_VERSION}
  base_url=${base_url%/}
  node_mirror=${node_mirror%/}
  [[ $node_version == v* ]] || node_version="v$node_version"

  [[ $repo =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] ||
    fail "$EXIT_CONFIG" "POST_RUN_SQS_REPO='$repo' is not a GitHub repository." "Set it to owner/name, e.g. $DEFAULT_REPO."
  [[ $ref =~ ^[A-Za-z0-9_./-]+$ ]] ||
    fail "$EXIT_CONFIG" "POST_RUN_SQS_REF='$ref' is not a branch, tag or commit name." "Use letters, digits and . _ - / only."
  [[ $base_url =~ ^https?:// ]] ||
    fail "$EXIT_CONFIG" "POST_RUN_SQS_BASE_URL is not an http(s) URL." "Set it to the URL that holds dist/, or unset it."
  [[ $node_mirror =~ ^https?:// ]] ||
    fail "$EXIT_CONFIG" "POST_RUN_SQS_NODE_MIRROR is not an http(s) URL." "Set it to a Node.js mirror like $DEFAULT_NODE_MIRROR, or unset it."
  [[ $node_version =~ ^v([0-9]+)\.[0-9]+\.[0-9]+$ ]] ||
    fail "$EXIT_CONFIG" "POST_RUN_SQS_NODE_VERSION='$node_version' is not a Node.js version." "Use a form like $DEFAULT_NODE_VERSION, or unset it."
  ((10#${BASH_REMATCH[1]} >= MIN_NODE_MAJOR)) ||
    fail "$EXIT_CONFIG" "POST_RUN_SQS_NODE_VERSION='$node_version' is older than Node.js $MIN_NODE_MAJOR, which the bundle needs." "Use $DEFAULT_NODE_VERSION or another release from $MIN_NODE_MAJOR on, or unset it."
}

# Downloads the bundle and its checksum into the work directory and verifies it; sets `bundle`.
fetch_bundle() {
  local url="$base_url/$BUNDLE_PATH" expected actual _name
  # .mjs: the bundle is an ES module, and must run as one whatever package.json sits above TMPDIR.
  bundle="$work_dir/post_run_sqs.mjs"
  log "downloading the post-run bundle from $(printable_url "$url")"
  FETCH_HINT="Check that POST_RUN_SQS_REPO ($repo) and POST_RUN_SQS_REF ($ref), or POST_RUN_SQS_BASE_URL, name a commit that contains $BUNDLE_PATH (run 'npm run build' and push it), and that this machine can reach that host." \
    fetch "$url" "$bundle" "the post-run bundle" 60
  FETCH_HINT="The bundle must be published with its checksum file beside it: run 'npm run build' and push dist/." \
    fetch "$url.sha256" "$work_dir/post_run_sqs.js.sha256" "the bundle's checksum" 30

  read -r expected _name <"$work_dir/post_run_sqs.js.sha256" || true
  is_sha256 "${expected:-}" ||
    fail "$EXIT_CHECKSUM" "the checksum file $(printable_url "$url.sha256") does not start with a SHA-256; the bundle was not run." \
      "Rebuild it with 'npm run build' and push dist/."
  expected=$(printf '%s' "$expected" | tr 'A-F' 'a-f')
  actual=$(sha256_of "$bundle")
  if [[ $actual != "$expected" ]]; then
    fail "$EXIT_CHECKSUM" "checksum mismatch for $(printable_url "$url"): expected SHA-256 $expected, got $actual; the bundle was not run." \
      "If dist/ was just pushed, retry in a few minutes (caches); otherwise rebuild with 'npm run build', commit both dist/ files together and push."
  fi
  log "bundle verified (sha256 $actual)"
}

# Node.js's name for this machine, as in node-<version>-<os>-<arch>.tar.gz; exit 5 if none fits.
node_platform() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) fail "$EXIT_MISSING" "no official Node.js build for the operating system '$(uname -s)'." "Install Node.js $MIN_NODE_MAJOR or later in the image." ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) fail "$EXIT_MISSING" "no official Node.js build for the machine architecture '$(uname -m)'." "Install Node.js $MIN_NODE_MAJOR or later in the image." ;;
  esac
  printf '%s-%s' "$os" "$arch"
}

# Downloads and verifies an official Node.js build into the work directory; sets `node_bin`.
download_node() {
  local platform ext tar_flag file url sums_url expected="" actual sum name
  command -v tar >/dev/null 2>&1 ||
    fail "$EXIT_MISSING" "tar is not installed, so Node.js cannot be unpacked." "Install tar, or Node.js $MIN_NODE_MAJOR or later, in the image."
  platform=$(node_platform)
  if command -v xz >/dev/null 2>&1; then
    ext=tar.xz tar_flag=J
  else
    ext=tar.gz tar_flag=z
  fi
  file="node-$node_version-$platform.$ext"
  url="$node_mirror/$node_version/$file"
  sums_url="$node_mirror/$node_version/SHASUMS256.txt"

  log "downloading Node.js $node_version ($platform) from $(printable_url "$url")"
  FETCH_HINT="Check POST_RUN_SQS_NODE_MIRROR and POST_RUN_SQS_NODE_VERSION, and that this machine can reach the mirror; or install Node.js $MIN_NODE_MAJOR or later in the image." \
    fetch "$sums_url" "$work_dir/SHASUMS256.txt" "the Node.js checksums" 60
  FETCH_HINT="Check POST_RUN_SQS_NODE_MIRROR and POST_RUN_SQS_NODE_VERSION (is there a $platform build?), and that this machine can reach the mirror; or install Node.js $MIN_NODE_MAJOR or later in the image." \
    fetch "$url" "$work_dir/$file" "Node.js" 600

  while read -r sum name; do
    if [[ ${name#\*} == "$file" ]]; then
      expected=$sum
      break
    fi
  done <"$work_dir/SHASUMS256.txt"
  is_sha256 "$expected" ||
    fail "$EXIT_CHECKSUM" "$(printable_url "$sums_url") lists no SHA-256 for $file; Node.js was not used." \
      "Check POST_RUN_SQS_NODE_MIRROR and POST_RUN_SQS_NODE_VERSION."
  expected=$(printf '%s' "$expected" | tr 'A-F' 'a-f')
  actual=$(sha256_of "$work_dir/$file")
  if [[ $actual != "$expected" ]]; then
    fail "$EXIT_CHECKSUM" "checksum mismatch for $(printable_url "$url"): expected SHA-256 $expected (from SHASUMS256.txt), got $actual; Node.js was not used and nothing was run." \
      "Retry later, or point POST_RUN_SQS_NODE_MIRROR at a trusted mirror, or install Node.js $MIN_NODE_MAJOR or later in the image."
  fi

  tar -x -"$tar_flag" -f "$work_dir/$file" -C "$work_dir" ||
    fail "$EXIT_MISSING" "could not unpack $file." "Check free space in ${TMPDIR:-/tmp}, or install Node.js $MIN_NODE_MAJOR or later in the image."
  rm -f -- "$work_dir/$file"
  node_bin="$work_dir/node-$node_version-$platform/bin/node"
  [[ -n $(node_major "$node_bin") ]] ||
    fail "$EXIT_MISSING" "the downloaded Node.js $node_version ($platform) does not run on this machine." \
      "Install Node.js $MIN_NODE_MAJOR or later in the image, or set POST_RUN_SQS_NODE_VERSION to a build that runs here."
}

# Sets `node_bin`: node from PATH when it is version 20 or later, else a downloaded one.
find_node() {
  local found major
  found=$(command -v node 2>/dev/null || true)
  if [[ -n $found ]]; then
    major=$(node_major "$found")
    if [[ -n $major ]] && ((major >= MIN_NODE_MAJOR)); then
      node_bin=$found
      log "using node $("$node_bin" --version) at $node_bin"
      return
    fi
    log "node at $found is ${major:+version $major, }not usable (need $MIN_NODE_MAJOR or later)"
  else
    log "node is not on PATH"
  fi
  download_node
  log "using node $("$node_bin" --version) downloaded from $(printable_url "$node_mirror")"
}

main() {
  local repo ref base_url node_mirror node_version bundle node_bin status=0
  read_settings

  command -v curl >/dev/null 2>&1 || fail "$EXIT_MISSING" "curl is not installed." "Install curl in the image."
  trap cleanup EXIT
  trap 'on_signal HUP 1' HUP
  trap 'on_signal INT 2' INT
  trap 'on_signal TERM 15' TERM
  work_dir=$(mktemp -d "${TMPDIR:-/tmp}/post-run-sqs.XXXXXXXXXX") ||
    fail "$EXIT_MISSING" "could not create a temporary directory in ${TMPDIR:-/tmp}." "Set TMPDIR to a writable directory."

  fetch_bundle
  find_node

  # In the background so that a signal reaches on_signal at once; stdin is /dev/null either way.
  "$node_bin" "$bundle" "$@" </dev/null &
  child_pid=$!
  wait "$child_pid" || status=$?
  child_pid=""
  exit "$status"
}

main "$@"
