#!/usr/bin/env bash
# One run of the GPU benchmark on a lent device machine, prepared so that it fits in one call.
#
# The device image has PyTorch, torchvision and scikit-learn but not skorch. Before the call,
# on the development machine (PyPI reachable there), in the repository root:
#     echo /.whl/ >> .git/info/exclude
#     python -m pip download --no-deps --only-binary=:all: -d .whl "skorch==1.4.0"
# then call the device tool with carry [".whl"] and the command
#     bash benchmarks/gpu_device.sh
# (timeout about 420 s; the benchmark takes about 3 minutes on an H200). Copy the returned
# results.md over docs/results.md: only its GPU section differs.
#
# Arguments are passed on to benchmarks/gpu.py, so the same script runs a tiny logic check on a
# machine without a GPU (as tests/test_benchmarks.py does):
#     OUT=/tmp/out bash benchmarks/gpu_device.sh --device cpu --n 13 --size 32 --model resnet18 ...
# Environment: OUT (where the files go), PYTHON (default python3), WHEELS (default .whl).
set -euo pipefail
OUT=${OUT:-/tmp/gpu_out}
PYTHON=${PYTHON:-python3}
WHEELS=${WHEELS:-.whl}
mkdir -p "$OUT"
if compgen -G "$WHEELS/*.whl" > /dev/null; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl
  export PYTHONPATH="/tmp/site:$PWD"
else
  export PYTHONPATH="$PWD"
fi
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu_info.txt"
else
  echo "no nvidia-smi on this machine" | tee "$OUT/gpu_info.txt"
fi
"$PYTHON" -c "import torch, torchvision, sklearn, skorch; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'sklearn', sklearn.__version__, 'skorch', skorch.__version__)" | tee -a "$OUT/gpu_info.txt"
cp docs/results.md "$OUT/results.md"
PYTHONUNBUFFERED=1 timeout 330 "$PYTHON" benchmarks/gpu.py --results "$OUT/results.md" --json "$OUT/gpu.json" "$@" 2>&1 | tee "$OUT/gpu.log"
