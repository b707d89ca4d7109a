#!/usr/bin/env bash
# Set crossview up on a fresh machine: a virtual environment with PyTorch, crossview and its
# test tools. Usage: bash scripts/setup.sh [VENV_DIR]   (default .venv)
# TORCH_SPEC picks the PyTorch build (default torch==2.13.0; on machines with a local CPU wheel
# of that version pip takes it instead of pulling several GB of CUDA packages).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "${TORCH_SPEC:-torch==2.13.0}"
"$venv/bin/python" -m pip install --quiet -e ".[dev]"
"$venv/bin/crossview" --version
echo "ready: activate with  source $venv/bin/activate"
