#!/bin/sh
# careless.sh CASE BITFALCON MODEL ASSETS WORKDIR PYTHON
#
# `bitfalcon` used as a careless user would, on files this script makes
# (issue 12, docs/batch.md "What happens when"): outputs onto symlinks,
# devices, FIFOs and inputs, a model rewritten during a run, closed fds,
# FIFOs as inputs, signals mid-run. Each CASE is its own ctest and asserts
# the outcome: exit code, file types after the run, byte-identical inputs,
# parsable JSON, no temporaries left behind. Exit 77 (skipped) without the
# model or Python, and for the mknod case when not root.
set -u
CASE=$1 BF=$2 MODEL=$3 ASSETS=$4 WORK=$5 PY=${6:-}
[ -f "$MODEL" ] || { echo "skipped: no model at $MODEL"; exit 77; }
[ -n "$PY" ] || { echo "skipped: no Python to check the JSON"; exit 77; }
fail() { echo "FAIL [$CASE]: $*" >&2; exit 1; }
SIZE="--size 160 --conf 0.05"
rm -rf "$WORK" && mkdir -p "$WORK" || fail "cannot make $WORK"
cd "$WORK" || exit 1

# photos DIR N: N copies of the assets in DIR (p001.jpg ...), and a pristine
# copy in DIR.orig to compare with after the run.
photos() {
    mkdir -p "$1"
    i=0
    while [ $i -lt "$2" ]; do
        for a in "$ASSETS"/*.jpg; do
            [ $i -lt "$2" ] || break
            i=$((i + 1))
            cp "$a" "$1/$(printf 'p%03d' $i).jpg"
        done
    done
    cp -r "$1" "$1.orig"
}
unchanged() { diff -r "$1" "$1.orig" >/dev/null || fail "$1 was modified: $(diff -rq "$1" "$1.orig")"; }
no_temps() {
    t=$(find "${1:-.}" -name '.*.tmp-*' 2>/dev/null)
    [ -z "$t" ] || fail "temporaries left behind: $t"
}
# json_files FILE: the number of distinct files in a detections JSON (fails if it does not parse).
json_files() {
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d, list); print(len({e["file"] for e in d}))' "$1" \
        || fail "$1 is not a valid detections JSON"
}
is_type() { # is_type f|l|c|p PATH
    case $1 in
    f) [ -f "$2" ] && [ ! -L "$2" ] ;;
    l) [ -L "$2" ] ;;
    c) [ -c "$2" ] && [ ! -L "$2" ] ;;
    p) [ -p "$2" ] && [ ! -L "$2" ] ;;
    esac || fail "$2 is not of type $1 after the run: $(ls -ld "$2" 2>&1)"
}
expect_rc() { [ "$1" -eq "$2" ] || fail "exit $1, expected $2 ($3): $(cat err.txt 2>/dev/null)"; }

case $CASE in
json_symlink)
    # A symlink is written through: the link stays, its target gets the JSON atomically.
    photos ph 3
    echo old > target.json
    ln -s target.json link.json
    mkdir -p sub && ln -s ../new.json sub/dangling.json
    "$BF" detect -m "$MODEL" $SIZE --json link.json ph 2>err.txt; expect_rc $? 0 "onto a symlink"
    is_type l link.json; is_type f target.json
    [ "$(readlink link.json)" = target.json ] || fail "the link now points elsewhere"
    [ "$(json_files target.json)" -ge 1 ] || fail "no detections in target.json"
    "$BF" detect -m "$MODEL" $SIZE --json sub/dangling.json ph 2>err.txt; expect_rc $? 0 "dangling symlink"
    is_type l sub/dangling.json; is_type f new.json
    json_files new.json >/dev/null
    unchanged ph; no_temps
    ;;
json_full_disk)
    # A full disk (a full device) for --json, --json - and --txt: one clear
    # message, exit 1. As root a binary with the old bug would rename over
    # /dev/full itself, so root uses a node of its own, made here.
    FULL=/dev/full
    if [ "$(id -u)" -eq 0 ]; then
        mknod full c 1 7 2>/dev/null || { echo "skipped: root without mknod (would risk /dev/full)"; exit 77; }
        FULL=$PWD/full
    fi
    [ -c "$FULL" ] && [ -w "$FULL" ] || { echo "skipped: no writable full device"; exit 77; }
    photos ph 2
    "$BF" detect -m "$MODEL" $SIZE --json "$FULL" ph 2>err.txt; expect_rc $? 1 "--json $FULL"
    grep -q "^bitfalcon: $FULL: write failed: No space left on device\$" err.txt || fail "message: $(cat err.txt)"
    is_type c "$FULL"
    "$BF" detect -m "$MODEL" $SIZE --json - ph >"$FULL" 2>err.txt; expect_rc $? 1 "--json - >$FULL"
    grep -q 'write failed: No space left on device' err.txt || fail "message: $(cat err.txt)"
    mkdir out && ln -s "$FULL" out/p001.txt
    "$BF" detect -m "$MODEL" $SIZE --txt -o out ph 2>err.txt; expect_rc $? 1 "--txt onto $FULL"
    grep -q '^bitfalcon: out/p001.txt: write failed: No space left on device$' err.txt || fail "message: $(cat err.txt)"
    is_type l out/p001.txt; is_type f out/p002.txt; is_type c "$FULL"
    unchanged ph; no_temps
    ;;
json_device_node)
    # Device nodes made here (as root): written into, never replaced.
    [ "$(id -u)" -eq 0 ] || { echo "skipped: mknod needs root"; exit 77; }
    mknod null.json c 1 3 2>/dev/null && mknod full.json c 1 7 2>/dev/null \
        || { echo "skipped: mknod not permitted here"; exit 77; }
    photos ph 2
    "$BF" detect -m "$MODEL" $SIZE --json null.json ph 2>err.txt; expect_rc $? 0 "onto a null device"
    is_type c null.json
    "$BF" detect -m "$MODEL" $SIZE --json full.json ph 2>err.txt; expect_rc $? 1 "onto a full device"
    grep -q 'No space left on device' err.txt || fail "message: $(cat err.txt)"
    is_type c full.json
    [ "$(ls -A | grep -c tmp)" -eq 0 ] || fail "a temporary next to the device"
    # A block device is refused before any work.
    if mknod blk.json b 7 200 2>/dev/null; then
        "$BF" detect -m "$MODEL" $SIZE --json blk.json ph 2>err.txt; expect_rc $? 2 "onto a block device"
        grep -q 'block device' err.txt || fail "message: $(cat err.txt)"
        [ -b blk.json ] || fail "the block device node was replaced"
    fi
    unchanged ph; no_temps
    ;;
json_fifo_stdout)
    # A FIFO and '-' are written directly: the FIFO stays, the reader gets valid JSON.
    photos ph 3
    mkfifo out.fifo
    cat out.fifo > got.json &
    reader=$!
    timeout 300 "$BF" detect -m "$MODEL" $SIZE --json out.fifo ph 2>err.txt; rc=$?
    k=0
    while kill -0 $reader 2>/dev/null && [ $k -lt 100 ]; do sleep 0.1; k=$((k + 1)); done
    if kill -0 $reader 2>/dev/null; then
        kill $reader
        fail "the FIFO's reader never got an end of file (exit $rc)"
    fi
    wait $reader
    expect_rc $rc 0 "onto a FIFO"
    is_type p out.fifo
    [ "$(json_files got.json)" -ge 1 ] || fail "the FIFO reader got no detections"
    "$BF" detect -m "$MODEL" $SIZE --json - ph >stdout.json 2>err.txt; expect_rc $? 0 "--json -"
    cmp -s stdout.json got.json || fail "--json - and the FIFO differ"
    unchanged ph; no_temps
    ;;
refuse_draw_onto_inputs)
    # -o pointing at the input folder, or an output symlink onto an input: exit 2, nothing written.
    photos ph 3
    "$BF" detect -m "$MODEL" $SIZE --draw -o ph ph 2>err.txt; expect_rc $? 2 "--draw -o ph ph"
    grep -q '^bitfalcon: ph/p001.jpg: is an input; --draw would overwrite it' err.txt || fail "message: $(cat err.txt)"
    unchanged ph
    mkdir out && ln -s ../ph/p002.jpg out/p001.jpg
    "$BF" detect -m "$MODEL" $SIZE --draw --txt -o out ph 2>err.txt; expect_rc $? 2 "output symlink onto an input"
    grep -q '^bitfalcon: out/p001.jpg: is the input ph/p002.jpg' err.txt || fail "message: $(cat err.txt)"
    [ -z "$(find out -name '*.txt')" ] || fail "outputs written before refusing"
    unchanged ph; no_temps
    ;;
refuse_json_onto_image)
    # --json with its file name forgotten (`--json ph/*`), or onto the model: exit 2, nothing changed.
    photos ph 3
    cp "$MODEL" m.bfm && cp m.bfm m.bfm.orig
    "$BF" detect -m m.bfm $SIZE --json ph/p001.jpg ph/p002.jpg ph/p003.jpg 2>err.txt
    expect_rc $? 2 "--json onto an image"
    grep -q '^bitfalcon: ph/p001.jpg: exists and is an image; refusing' err.txt || fail "message: $(cat err.txt)"
    "$BF" detect -m m.bfm $SIZE --json m.bfm ph 2>err.txt; expect_rc $? 2 "--json onto the model"
    grep -q 'is the model' err.txt || fail "message: $(cat err.txt)"
    cmp -s m.bfm m.bfm.orig || fail "the model was modified"
    unchanged ph; no_temps
    ;;
json_dir_target)
    # --json naming a folder, or -o naming a file: exit 2 before the first image.
    photos ph 3
    mkdir jdir
    "$BF" detect -m "$MODEL" $SIZE --txt -o out --json jdir ph 2>err.txt; expect_rc $? 2 "--json DIR"
    grep -q '^bitfalcon: jdir: is a folder, not a file (the --json output)$' err.txt || fail "message: $(cat err.txt)"
    [ -z "$(find out -name '*.txt' 2>/dev/null)" ] || fail "images were processed before refusing"
    [ -d jdir ] && [ -z "$(ls -A jdir)" ] || fail "jdir changed"
    echo x > afile
    "$BF" detect -m "$MODEL" $SIZE --txt -o afile ph 2>err.txt; expect_rc $? 2 "-o FILE"
    grep -q '^bitfalcon: afile: not a folder (the -o output folder)$' err.txt || fail "message: $(cat err.txt)"
    [ "$(cat afile)" = x ] || fail "afile changed"
    unchanged ph; no_temps
    ;;
output_folder_skipped)
    # The output folder inside the input folder is not walked again.
    photos ph 3
    for run in 1 2 3; do
        "$BF" detect -m "$MODEL" $SIZE --draw --txt -o ph/annotated ph 2>err.txt; expect_rc $? 0 "run $run"
    done
    [ ! -e ph/annotated/annotated ] || fail "the output folder was walked: $(find ph/annotated | head)"
    [ "$(find ph/annotated -name '*.jpg' | wc -l)" -eq 3 ] || fail "expected 3 drawn images: $(find ph/annotated)"
    # -o given as the input folder itself is still walked (and then refused for --draw, above).
    "$BF" detect -m "$MODEL" $SIZE --txt -o ph ph 2>err.txt; expect_rc $? 0 "--txt -o ph ph"
    [ -f ph/p001.txt ] || fail "no ph/p001.txt"
    rm -rf ph/annotated ph/*.txt
    unchanged ph; no_temps
    ;;
model_rewritten)
    # The model truncated, or overwritten in place, during a run: the run uses
    # what it validated, so its results equal those of an undisturbed run.
    n=${CARELESS_MODEL_IMAGES:-120}
    photos ph "$n"
    cp "$MODEL" m.bfm
    "$BF" detect -m m.bfm $SIZE --json ref.json ph 2>err.txt; expect_rc $? 0 "reference run"
    for how in truncate overwrite; do
        cp "$MODEL" m.bfm
        rm -rf out
        "$BF" detect -m m.bfm $SIZE --txt -o out --json "$how.json" ph 2>err.txt &
        pid=$!
        k=0
        while [ -z "$(find out -name '*.txt' 2>/dev/null | head -1)" ] && [ $k -lt 600 ]; do
            sleep 0.1; k=$((k + 1))
        done
        if [ $how = truncate ]; then
            : > m.bfm
        else
            "$PY" -c 'import os,sys; f=open(sys.argv[1],"r+b"); n=os.path.getsize(sys.argv[1]); f.seek(4096); f.write(os.urandom(n - 8192)); f.close()' m.bfm
        fi
        kill -0 $pid 2>/dev/null || fail "the run ended before the model was rewritten (raise CARELESS_MODEL_IMAGES)"
        wait $pid; expect_rc $? 0 "model ${how}d mid-run"
        cmp -s ref.json "$how.json" || fail "results differ after the model was ${how}d mid-run"
    done
    # A fresh run now refuses the damaged file.
    "$BF" detect -m m.bfm $SIZE --json x.json ph 2>err.txt; expect_rc $? 2 "a rewritten model"
    unchanged ph; no_temps
    ;;
closed_fds)
    # stderr (and stdin, stdout) closed: the messages must not end up in the JSON.
    photos ph 2
    echo "not an image" > ph/bad.jpg
    "$BF" detect -m "$MODEL" $SIZE --json out.json ph 2>&-; expect_rc $? 1 "2>&-"
    [ "$(json_files out.json)" -ge 1 ] || fail "no detections"
    "$BF" detect -m "$MODEL" $SIZE --json out2.json ph <&- >&- 2>&-; expect_rc $? 1 "<&- >&- 2>&-"
    cmp -s out.json out2.json || fail "the JSON differs with fds 0-2 closed"
    rm ph/bad.jpg
    unchanged ph; no_temps
    ;;
fifo_inputs)
    # Every file the program reads: a FIFO is refused at once, never waited on.
    photos ph 2
    mkfifo m.fifo d.fifo img.jpg
    mkdir labels && mkfifo labels/p001.txt
    timeout 60 "$BF" detect -m m.fifo ph 2>err.txt; expect_rc $? 2 "model FIFO"
    grep -q '^bitfalcon: m.fifo: not a regular file$' err.txt || fail "message: $(cat err.txt)"
    timeout 60 "$BF" eval --detections d.fifo --images ph --labels labels 2>err.txt; expect_rc $? 2 "eval --detections FIFO"
    grep -q 'd.fifo: not a regular file' err.txt || fail "message: $(cat err.txt)"
    timeout 60 "$BF" bench -m "$MODEL" --image img.jpg --runs 1 --size 160 2>err.txt; expect_rc $? 2 "bench --image FIFO"
    grep -q 'img.jpg: not a regular file' err.txt || fail "message: $(cat err.txt)"
    timeout 60 "$BF" detect -m "$MODEL" $SIZE img.jpg ph/p001.jpg >/dev/null 2>err.txt; expect_rc $? 1 "image FIFO"
    grep -q '^bitfalcon: img.jpg: not a regular file$' err.txt || fail "message: $(cat err.txt)"
    timeout 120 "$BF" eval -m "$MODEL" --images ph --labels labels --size 160 >/dev/null 2>err.txt
    rc=$?; [ $rc -ne 124 ] || fail "eval hung on a FIFO label"
    grep -q 'labels/p001.txt: not a regular file' err.txt || fail "message: $(cat err.txt)"
    unchanged ph; no_temps
    ;;
signals)
    # SIGINT/SIGTERM: the current image is finished, the outputs of those done
    # are written (valid JSON), no temporaries stay, exit 130/143, and
    # --resume does the rest.
    env --default-signal=INT true 2>/dev/null || { echo "skipped: needs env --default-signal (coreutils 8.31+)"; exit 77; }
    DEFSIG="env --default-signal=INT,TERM"
    n=${CARELESS_SIGNAL_IMAGES:-150}
    photos ph "$n"
    for sig in INT TERM; do
        rm -rf out
        # env --default-signal: sh starts background jobs with SIGINT ignored,
        # and bitfalcon (rightly) keeps an inherited SIG_IGN.
        $DEFSIG "$BF" detect -m "$MODEL" $SIZE --resume --txt -o out --json "$sig.json" ph 2>err.txt &
        pid=$!
        k=0
        while [ "$(find out -name '*.txt' 2>/dev/null | wc -l)" -lt 2 ] && [ $k -lt 600 ]; do
            sleep 0.1; k=$((k + 1))
        done
        kill -0 $pid 2>/dev/null || fail "the run ended before the signal (raise CARELESS_SIGNAL_IMAGES)"
        kill -$sig $pid
        wait $pid; rc=$?
        want=130; [ $sig = TERM ] && want=143
        expect_rc $rc $want "SIG$sig"
        grep -q "interrupted by SIG$sig after [0-9]* of $n inputs" err.txt || fail "message: $(cat err.txt)"
        grep -q 'Run the same command again' err.txt || fail "no --resume advice: $(cat err.txt)"
        done_txt=$(find out -name '*.txt' | wc -l)
        [ "$done_txt" -lt "$n" ] || fail "SIG$sig did not stop the run"
        in_json=$(json_files "$sig.json")
        [ "$in_json" -le "$done_txt" ] || fail "JSON has $in_json files, only $done_txt done"
        no_temps
        "$BF" detect -m "$MODEL" $SIZE --resume --txt -o out --json "$sig.json" ph 2>err.txt; expect_rc $? 0 "resume after SIG$sig"
        [ "$(find out -name '*.txt' | wc -l)" -eq "$n" ] || fail "resume did not finish the rest"
    done
    "$BF" detect -m "$MODEL" $SIZE --json ref.json ph 2>err.txt; expect_rc $? 0 "uninterrupted"
    cmp -s ref.json INT.json || fail "interrupted + resumed JSON differs from an uninterrupted run"
    # Before the first image (here: waiting for a FIFO's reader) one signal ends the run at once.
    mkfifo noreader.fifo
    $DEFSIG "$BF" detect -m "$MODEL" $SIZE --json noreader.fifo ph 2>err.txt &
    pid=$!
    sleep 1
    kill -TERM $pid
    k=0
    while kill -0 $pid 2>/dev/null && [ $k -lt 100 ]; do sleep 0.1; k=$((k + 1)); done
    if kill -0 $pid 2>/dev/null; then kill -KILL $pid; fail "SIGTERM did not end a run waiting for a FIFO reader"; fi
    wait $pid; expect_rc $? 143 "SIGTERM before the first image"
    is_type p noreader.fifo
    # An inherited SIG_IGN (a background job of sh, nohup) is kept.
    rm -rf out
    "$BF" detect -m "$MODEL" $SIZE --txt -o out --json ign.json ph 2>err.txt &
    pid=$!
    k=0
    while [ "$(find out -name '*.txt' 2>/dev/null | wc -l)" -lt 2 ] && [ $k -lt 600 ]; do
        sleep 0.1; k=$((k + 1))
    done
    kill -INT $pid
    wait $pid; expect_rc $? 0 "SIGINT while ignored"
    cmp -s ign.json ref.json || fail "a run with SIGINT ignored did not do every image"
    # A second signal exits at once, removing the JSON temporary.
    rm -rf out
    $DEFSIG "$BF" detect -m "$MODEL" $SIZE --txt -o out --json twice.json ph 2>err.txt &
    pid=$!
    k=0
    while [ "$(find out -name '*.txt' 2>/dev/null | wc -l)" -lt 2 ] && [ $k -lt 600 ]; do
        sleep 0.1; k=$((k + 1))
    done
    kill -INT $pid; kill -TERM $pid
    wait $pid; rc=$?
    [ $rc -eq 143 ] || [ $rc -eq 130 ] || fail "two signals: exit $rc"
    [ -z "$(find . -maxdepth 1 -name '.twice.json.tmp-*')" ] || fail "the JSON temporary stayed"
    [ ! -e twice.json ] || json_files twice.json >/dev/null
    echo "two signals: exit $rc"
    unchanged ph
    ;;
messages)
    # Options and limits blamed on the right thing.
    photos ph 1
    "$BF" detect -m "$MODEL" --size 8192 ph 2>err.txt; expect_rc $? 2 "--size 8192"
    grep -q "^bitfalcon detect: --size: '8192' is not an integer in 32..4096$" err.txt || fail "message: $(cat err.txt)"
    "$BF" detect -m "$MODEL" --size 100 ph 2>err.txt; expect_rc $? 2 "--size 100"
    grep -q '^bitfalcon detect: --size 100 is not a multiple of 32$' err.txt || fail "message: $(cat err.txt)"
    # 70 folders deep: the walk stops at 64 and says so; the shallower image is still done.
    d=deep; i=0
    while [ $i -lt 70 ]; do d=$d/d; i=$((i + 1)); done
    mkdir -p "$d" && cp ph/p001.jpg "$d/x.jpg" && cp ph/p001.jpg deep/top.jpg
    "$BF" detect -m "$MODEL" $SIZE --txt -o out deep 2>err.txt; expect_rc $? 1 "nested 70 deep"
    grep -q ': folders nested too deeply$' err.txt || fail "message: $(cat err.txt)"
    [ -f out/top.txt ] || fail "the shallow image was not processed"
    [ "$(find out -name '*.txt' | wc -l)" -eq 1 ] || fail "an image below the limit was processed"
    unchanged ph; no_temps
    ;;
default_model)
    # Without -m: $BITFALCON_MODEL, ./models/, then the install next to the program.
    photos ph 1
    mkdir -p inst/bin inst/share/bitfalcon/models bare/bin
    cp "$BF" inst/bin/bitfalcon && cp "$BF" bare/bin/bitfalcon && cp "$MODEL" inst/share/bitfalcon/models/
    env -u BITFALCON_MODEL inst/bin/bitfalcon detect $SIZE --json a.json ph 2>err.txt; expect_rc $? 0 "installed copy"
    json_files a.json >/dev/null
    env -u BITFALCON_MODEL bare/bin/bitfalcon detect $SIZE ph >/dev/null 2>err.txt; expect_rc $? 2 "no model anywhere"
    grep -q '^bitfalcon: no model given (-m) and none found: .*looked for models/bitfalcon-v8n.bfm, .*bare/bin/../share/bitfalcon/models/bitfalcon-v8n.bfm' err.txt \
        || fail "message: $(cat err.txt)"
    BITFALCON_MODEL="$MODEL" bare/bin/bitfalcon detect $SIZE --json b.json ph 2>err.txt; expect_rc $? 0 "BITFALCON_MODEL"
    cmp -s a.json b.json || fail "the two models gave different results"
    BITFALCON_MODEL=missing.bfm inst/bin/bitfalcon detect $SIZE ph >/dev/null 2>err.txt; expect_rc $? 2 "BITFALCON_MODEL missing"
    grep -q '^bitfalcon: missing.bfm: cannot open' err.txt || fail "message: $(cat err.txt)"
    unchanged ph; no_temps
    ;;
*)
    fail "unknown case $CASE"
    ;;
esac
echo "ok: $CASE"
