#!/usr/bin/env bash
# Make the virtualenv (or repair it) and install requirements.lock into it, with uv.
#
#   platform/tools/python/venv.sh VENV [PYTHON]
#
# PYTHON (default: python3) must be the project's Python (3.11): another one is refused
# before anything is installed. A VENV made by another interpreter (an upgraded Python, a
# virtualenv copied from another machine) is removed and made again, with one line saying
# so. requirements.lock is the one list of pinned versions: uv installs exactly it (its own
# version comes from it too), then the project itself, editable.
set -euo pipefail

venv=${1:?usage: venv.sh VENV [PYTHON]}
python=${2:-python3}
needed=3.11

if ! command -v "$python" >/dev/null; then
  echo "make install: Python $needed is needed, and there is no '$python' on PATH" \
    "(set PYTHON3=/path/to/python$needed)" >&2
  exit 1
fi
found=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [[ $found != "$needed" ]]; then
  echo "make install: Python $needed is needed (pyproject.toml: requires-python);" \
    "$(command -v "$python") is $found. Install $needed, or set PYTHON3=/path/to/python$needed" >&2
  exit 1
fi

# Which interpreter a virtualenv stands on: its version and the installation it came from.
identity='import sys; print(sys.version.split()[0], sys.base_prefix)'
wanted=$("$python" -c "$identity")
if [[ -e $venv ]]; then
  have=$("$venv/bin/python" -c "$identity" 2>/dev/null || echo "a missing or broken interpreter")
  if [[ $have != "$wanted" ]]; then
    echo "make install: $venv was made by Python $have, not $wanted: rebuilding it"
    rm -rf "$venv"
  fi
fi

if [[ ! -x $venv/bin/uv ]]; then
  [[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
  uv_pin=$(grep -E '^uv==' requirements.lock)
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$uv_pin"
fi

target=(--python "$venv/bin/python")
# Byte-compiled now, once: where PYTHONDONTWRITEBYTECODE is set (as on CI machines) every
# interpreter would otherwise compile the libraries it imports again (1.5 s a start).
"$venv/bin/uv" pip sync "${target[@]}" --quiet --compile-bytecode requirements.lock
"$venv/bin/uv" pip install "${target[@]}" --quiet --no-deps -e .
