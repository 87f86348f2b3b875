# Shared by scripts/quickstart and scripts/test: install what is missing, then build.
# Sourced, not run.

# Debian packages needed to build, test and run housekeep (python3-django: the test on a
# database made by Django's own migrate; postgresql-15: the test server; libmicrohttpd: the
# daemon's HTTP endpoint, tested with curl and python3-prometheus-client; chromium: the
# dashboard, tested in a headless browser driven over the DevTools protocol).
HOUSEKEEP_PACKAGES=(
  g++ cmake ninja-build pkg-config
  libsqlite3-dev libsqlitecpp-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  nlohmann-json3-dev libhowardhinnant-date-dev catch2
  libsystemd-dev systemd
  sqlite3 jq tzdata util-linux
  groff-base zsh fish dpkg-dev lintian file adduser clang-format
  python3-django
  libpq-dev postgresql-15 python3-psycopg2 pgbouncer
  libmicrohttpd-dev python3-prometheus-client curl
  chromium python3-websocket
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "housekeep: error: '$1' needs root and sudo is not available" >&2
    echo "hint: run this script as root, or install: ${HOUSEKEEP_PACKAGES[*]}" >&2
    exit 77
  fi
}

install_dependencies() {
  local missing=()
  local package
  for package in "${HOUSEKEEP_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build PRESET: configure once, then build incrementally.
build() {
  local preset=$1
  if [ ! -f "build/$preset/build.ninja" ]; then
    cmake --preset "$preset" >/dev/null
  fi
  cmake --build --preset "$preset" -j "$(nproc)"
}
