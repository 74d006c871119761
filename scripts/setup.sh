#!/usr/bin/env bash
# Set up hazardboard on a Debian machine with Python 3.11: system packages, a
# virtualenv in .venv and the project installed into it. Safe to run again.
#   bash scripts/setup.sh          # what `hazardboard serve` needs
#   bash scripts/setup.sh --test   # plus what the test suite needs (chromium, pytest, playwright, JupyterLab)
#   bash scripts/setup.sh --lab    # plus JupyterLab, for notebooks/explore_sample_campaign.ipynb
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
with_lab=0
for arg in "$@"; do
  case "$arg" in
    --test) with_tests=1 ;;
    --lab) with_lab=1 ;;
    *) echo "usage: bash scripts/setup.sh [--test] [--lab]" >&2; exit 2 ;;
  esac
done

# Debian packages: CJK fonts for charts and exports (Noto for charts; AR PL UMing, a Song face,
# and WenQuanYi Micro Hei, a Hei face, for the PDFs: ReportLab embeds TrueType outlines only);
# chromium for the browser tests, poppler-utils (pdffonts, pdftoppm) to check the PDFs;
# postgresql, whose binaries the tests run a throwaway cluster of (tests/postgres.py: its own
# folder and port; the cluster the package may create and start is not used), and nginx for the
# two-server test behind a reverse proxy.
packages=(fonts-noto-cjk fonts-arphic-uming fonts-wqy-microhei)
[ "$with_tests" = 1 ] && packages+=(chromium poppler-utils postgresql nginx)
python3 -m venv --help >/dev/null 2>&1 || packages+=(python3-venv)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "Installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >&2
if [ "$with_tests" = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[test]" >&2  # the test extra includes the lab one
elif [ "$with_lab" = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[lab]" >&2
else
  .venv/bin/python -m pip install -q -e . >&2
fi

# The project is installed in place (-e), so pip compiled none of its modules; where the
# environment keeps Python from writing bytecode (PYTHONDONTWRITEBYTECODE), every server start
# and every command would compile them again (~0.3 s of a server's start-up). Compile them now;
# a module edited later is compiled in memory, as before (Python checks each file's time).
.venv/bin/python -m compileall -q -j 0 auth briefing components dashboards loaders metrics store sample_data >/dev/null
