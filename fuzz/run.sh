#!/bin/sh
# Runs one libFuzzer target for a bounded time on a copy of its committed seed
# corpus (new inputs go to WORK/corpus, never into fuzz/corpus/):
#   fuzz/run.sh TARGET SECONDS [BUILD [WORK]]      TARGET: model, image, camera, datayaml or journal
# A crash leaves WORK/crash-* (and exit status 1); the last lines of the log
# hold libFuzzer's final stats (stat::number_of_executed_units, cov:, ft:).
# To reproduce a crash: BUILD/fuzz_TARGET WORK/crash-...
set -eu
src="$(cd "$(dirname "$0")/.." && pwd)"
t="$1"
secs="$2"
build="${3:-$src/build-fuzz}"
work="${4:-$build/run-$t}"
mkdir -p "$work/corpus"
cp -n "$src/fuzz/corpus/$t/"* "$work/corpus/" 2>/dev/null || true
dict=""
[ -f "$src/fuzz/$t.dict" ] && dict="-dict=$src/fuzz/$t.dict"
# Memory: an image's pixels are capped at 300 MB (image.h), a camera frame at 3 MB.
# shellcheck disable=SC2086
exec "$build/fuzz_$t" "$work/corpus" $dict -max_total_time="$secs" -print_final_stats=1 \
    -rss_limit_mb=2560 -malloc_limit_mb=2048 -max_len=65536 -timeout=25 \
    -artifact_prefix="$work/" -close_fd_mask=3 ${BF_FUZZ_ARGS:-}
