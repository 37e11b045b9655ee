#!/usr/bin/env bash
# Do this checkout and COMMIT write the same vectors?  bash benchmarks/same_outputs.sh COMMIT
#
# Trains eight small configurations on the default corpus (the main job, then CBOW and
# skip-gram with ns, hs, nce and softmax, skip-gram hs by pair, and a --sweep) with this
# checkout's code and with COMMIT's (a git worktree), and compares the sha256 of every
# vectors.bin and params.npz. Prints "identical" and exits 0, or the differences and exits 1.
# About 2 minutes on a 2-core CPU. Needs .venv (README's first command).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
commit=${1:?usage: bash benchmarks/same_outputs.sh COMMIT}
py="$here/.venv/bin/python"
scratch=$(mktemp -d)
trap 'git -C "$here" worktree remove --force "$scratch/ref" >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
git -C "$here" worktree add -q --detach "$scratch/ref" "$commit"
export W2V_JAX_CACHE="$scratch/cache"

outputs() {  # outputs ROOT OUT: trains the configurations with ROOT's code, prints the sums
  local root=$1 out=$2
  mkdir -p "$out"
  run() {
    local name=$1; shift
    (cd "$root" && PYTHONPATH="$root" "$py" run.py --workdir="$out/$name" "$@" \
      > "$out/$name.log" 2>&1) || { echo "failed: $name ($out/$name.log)" >&2; exit 1; }
  }
  run main --model=skipgram --loss=ns
  run cbow-ns --model=cbow --loss=ns --noevaluate --epochs=2
  run sg-hs --model=skipgram --loss=hs --noevaluate --epochs=2
  run cbow-hs --model=cbow --loss=hs --noevaluate --epochs=2
  run sg-nce --model=skipgram --loss=nce --noevaluate --epochs=1
  run cbow-sm --model=cbow --loss=softmax --noevaluate --epochs=1 --max_vocab=2000
  run sg-pairs-hs --model=skipgram --loss=hs --skipgram_layout=pairs --path_buckets=1 \
    --noevaluate --epochs=1
  run sweep --sweep=alpha=0.02,0.03 --noevaluate --epochs=1
  (cd "$out" && find . \( -name vectors.bin -o -name params.npz \) | sort | xargs sha256sum)
}

outputs "$scratch/ref" "$scratch/out-ref" > "$scratch/ref.sums"
outputs "$here" "$scratch/out-here" > "$scratch/here.sums"
if diff "$scratch/ref.sums" "$scratch/here.sums"; then
  echo "identical: $(wc -l < "$scratch/here.sums") files, this checkout against $commit"
else
  exit 1
fi
