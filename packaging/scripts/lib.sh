# shellcheck shell=bash disable=SC2034
# Helpers shared by the recipe scripts (sourced, never run). The build contract: the
# orchestrator uploads packaging/ to $root/recipes, the source to $root/src, wheels to
# $root/wheelhouse, and collects finished packages from $root/out ($root is /build).

recipes=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root=${ST2PKG_BUILD_ROOT:-/build}
src_dir=$root/src
wheelhouse=$root/wheelhouse
# The requirement set to install, written by the orchestrator: what scripts/requirements
# printed, with each VCS requirement pinned to the wheel built from its fetched commit.
requirements_file=$root/requirements.txt
out_dir=$root/out
python=${ST2PKG_PYTHON:-python3}

die() {
  echo "st2pkg: error: $*" >&2
  exit 1
}

# Bad input (unknown package, malformed version): exit 2, like every st2pkg usage error.
usage() {
  echo "st2pkg: error: $*" >&2
  exit 2
}

log() {
  echo "st2pkg: $*" >&2
}

# load_package NAME: read packaging/NAME/package.env (source kind, venv path) or fail.
load_package() {
  local name=${1:-}
  [ -n "$name" ] || usage "missing package name (one of: $(known_packages))"
  [ -f "$recipes/$name/package.env" ] ||
    usage "unknown package '$name' (one of: $(known_packages))"
  package=$name
  source_kind="" pypi_name="" venv="" conf_from_source="" default_version="" smoke=""
  # shellcheck source=/dev/null
  . "$recipes/$name/package.env"
  case $source_kind in
    pypi | tree) ;;
    *) die "$recipes/$name/package.env: source_kind must be pypi or tree" ;;
  esac
  [ -n "$venv" ] || die "$recipes/$name/package.env: venv is not set"
}

# data_rows FILE: the rows of a data file of packaging/, without comments and blank lines.
data_rows() {
  grep -Ev '^[[:space:]]*(#|$)' "$1" || true
}

known_packages() {
  local env names=()
  for env in "$recipes"/*/package.env; do
    names+=("$(basename "$(dirname "$env")")")
  done
  echo "${names[*]}"
}

# need_version: ST2PKG_VERSION (default: the recipe's default_version, else the source's own
# version) and ST2PKG_RELEASE (default 1), checked against what both dpkg and rpm accept.
need_version() {
  version=${ST2PKG_VERSION:-$default_version}
  release=${ST2PKG_RELEASE:-1}
  if [ -z "$version" ] && [ "$source_kind" = tree ]; then
    version=$("$python" "$recipes/scripts/st2-source" version "$src_dir") || exit 2
  fi
  [ -n "$version" ] || usage "ST2PKG_VERSION is not set"
  [[ $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]] ||
    usage "ST2PKG_VERSION '$version' is not a package version (digits first; letters, digits, . + ~)"
  [[ $release =~ ^[0-9A-Za-z.+~]+$ ]] ||
    usage "ST2PKG_RELEASE '$release' is not a package release (letters, digits, . + ~)"
}
