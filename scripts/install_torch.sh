#!/usr/bin/env bash
# Install torch + torchvision into the given Python environment, choosing the build by hardware:
#   an NVIDIA GPU (nvidia-smi works)  -> PyPI's Linux wheels, which are CUDA builds;
#   no GPU                            -> the small CPU build from download.pytorch.org,
#                                        falling back to plain PyPI when that index can't be reached.
# Versions come from requirements/constraints.txt, so CI, the image and laptops agree.
set -euo pipefail
PY="${1:-.venv/bin/python}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
CONSTRAINTS="$HERE/requirements/constraints.txt"
CPU_INDEX="${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"
PKGS=(torch torchvision)

if "$PY" -c "import torch, torchvision" 2>/dev/null; then
    echo "torch already installed: $("$PY" -c 'import torch; print(torch.__version__)')"
    exit 0
fi
pip_install() { "$PY" -m pip install --quiet -c "$CONSTRAINTS" "$@" "${PKGS[@]}"; }

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "NVIDIA GPU found: installing the CUDA build of torch from PyPI"
    pip_install
elif "$PY" - "$CPU_INDEX" <<'PYEOF'
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1] + "/torch/", timeout=5)
except Exception as exc:
    print(f"CPU wheel index {sys.argv[1]} unreachable ({exc.__class__.__name__})")
    sys.exit(1)
PYEOF
then
    echo "No GPU: installing the CPU build of torch from $CPU_INDEX"
    pip_install --index-url "$CPU_INDEX" --extra-index-url https://pypi.org/simple
else
    echo "No GPU and no CPU index: installing torch from PyPI (a CUDA build; it runs on the CPU)"
    pip_install
fi
