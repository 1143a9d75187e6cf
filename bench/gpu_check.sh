#!/usr/bin/env bash
# The device check (issues 10, 11): one prepared run on a GPU machine, under 10 minutes.
#
# Prepare here (the GPU machine cannot reach ../shared/data):
#     mkdir -p bench/_work/data && cp -r ../shared/data/{blogcatalog,fb15k-237} bench/_work/data/
# then run from the repository root there, carrying bench/_work/data:
#     bash bench/gpu_check.sh            # figures under $OUT (default bench/out/gpu)
#
# Nothing is installed: the project runs from src/ through PYTHONPATH with the
# machine's own torch, triton, numba, scipy, scikit-learn, pytest.  Order of
# priority, so that a run cut short still leaves the most important figures:
# the gpu tests (compiled Triton parity, the > 2**31-element table), then
# bench/gpu_check.py (kernel rate, YouTube-size DeepWalk against numba,
# RotatE on FB15k-237, BlogCatalog quality, peak device memory), which rewrites
# gpu_check.json after every step.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/gpu}
mkdir -p "$OUT"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-/tmp/vitegraph-numba-cache}
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import torch, triton, numba; print('torch', torch.__version__, 'triton', triton.__version__, 'numba', numba.__version__)"
  echo "cpus $(nproc)"
  git rev-parse --short HEAD 2>/dev/null
} > "$OUT/device.txt" 2>&1
cat "$OUT/device.txt"

echo "== gpu tests"
timeout 150 python3 -m pytest -q -p no:cacheprovider -x tests/test_triton.py \
    tests/test_kge_triton.py tests/test_sampling_device.py 2>&1 | tee "$OUT/gpu_tests.txt"
timeout 60 python3 -m pytest -q -p no:cacheprovider -m gpu tests/test_kernels.py \
    tests/test_solver.py 2>&1 | tee -a "$OUT/gpu_tests.txt"

timeout 30 python3 -m pytest -q -p no:cacheprovider tests/test_largevis.py -k "triton" \
    2>&1 | tee -a "$OUT/gpu_tests.txt"

# two processes on the one GPU (device-resident partitions, moved over gloo)
timeout 120 python3 -m pytest -q -p no:cacheprovider -m gpu tests/test_distributed.py \
    2>&1 | tee -a "$OUT/gpu_tests.txt"

echo "== figures"
timeout 330 python3 bench/gpu_check.py --out "$OUT" 2>&1 | tee "$OUT/gpu_check.log"
echo "== done: $OUT/gpu_check.json"
