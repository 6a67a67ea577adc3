#!/usr/bin/env bash
# Set-up for hpd3d: apt libraries bpy needs, .venv with Python 3.11, pinned packages,
# the project in editable mode. Idempotent: a second run is a no-op in a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP=$VENV/.hpd3d-setup
PYTHON=${PYTHON:-python3.11}
want=$(cat requirements.txt pyproject.toml tools/setup.sh | sha1sum | cut -d' ' -f1)

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi

# 1. System libraries bpy needs without a display (without libegl1 a Workbench/EEVEE
#    render kills the process).
apt_pkgs="libx11-6 libxrender1 libxfixes3 libxi6 libxkbcommon0 libsm6 libxext6 libgl1 libegl1"
missing=""
for p in $apt_pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if ! command -v "$PYTHON" >/dev/null 2>&1; then missing="$missing python3.11"; fi
if command -v "$PYTHON" >/dev/null 2>&1 && ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
  missing="$missing python3.11-venv"
fi
if [ -n "$missing" ]; then
  echo "setup: installing with apt:$missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

# 2. The virtual environment and the pins.
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
pip="$VENV/bin/python -m pip --disable-pip-version-check -q"
echo "setup: installing pinned packages (first run takes a few minutes)"
$pip install -r requirements.txt
$pip install --no-deps "mmengine==0.10.7" "mediapipe==0.10.21"
# A stray opencv-python (GUI build) would overwrite the headless cv2: keep only one.
if $VENV/bin/python -m pip show opencv-python >/dev/null 2>&1; then
  $pip uninstall -y opencv-python
  $pip install --force-reinstall --no-deps opencv-python-headless
fi
$pip install --no-deps -e .

$VENV/bin/python -c "import numpy, scipy, torch, cv2, bpy, mmengine, hydra, mediapipe, anny, hpd3d" \
  || { echo "setup: the environment does not import; see the messages above" >&2; exit 1; }
echo "$want" > "$STAMP"
echo "setup: done ($VENV)"
