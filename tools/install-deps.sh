#!/usr/bin/env bash
# Installs the Debian packages that building tandem and running every test need.
# Safe to run again; uses sudo only when not already root.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libsqlite3-dev sqlite3
  libyaml-cpp-dev libboost-program-options-dev libfmt-dev nlohmann-json3-dev libssl-dev
  libpqxx-dev libmariadb-dev libmariadb-dev-compat
  doctest-dev
  postgresql mariadb-server galera-4 rsync
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
