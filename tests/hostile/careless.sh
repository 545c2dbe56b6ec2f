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
exif_orientation)
    # A JPEG's EXIF orientation (1..8) is applied as OpenCV and Ultralytics
    # apply it: detections, --txt and --draw equal those of a PNG holding the
    # displayed frame (made by PIL's ImageOps.exif_transpose, an independent
    # implementation); --no-exif gives those of the stored frame. eval reads
    # labels in the displayed frame, with -m and with --detections.
    "$PY" -c 'import PIL' 2>/dev/null || { echo "skipped: no PIL to write EXIF"; exit 77; }
    mkdir -p ph ref raw
    "$PY" - "$ASSETS/chelsea.jpg" <<'PYEOF' || fail "cannot make the oriented JPEGs"
import sys
from PIL import Image, ImageOps
up = Image.open(sys.argv[1]).convert("RGB")
up = up.resize((up.width // 2, up.height // 2))  # 240 x 159: not square, odd height
# The stored frame that orientation o displays as `up`: the inverse turn.
inv = {2: Image.FLIP_LEFT_RIGHT, 3: Image.ROTATE_180, 4: Image.FLIP_TOP_BOTTOM,
       5: Image.TRANSPOSE, 6: Image.ROTATE_90, 7: Image.TRANSVERSE, 8: Image.ROTATE_270}
for o in range(1, 9):
    stored = up if o == 1 else up.transpose(inv[o])
    exif = Image.Exif()
    exif[0x0112] = o
    stored.save("ph/o%d.jpg" % o, quality=90, exif=exif.tobytes())
    img = Image.open("ph/o%d.jpg" % o)
    assert img.getexif().get(0x0112) == o
    ImageOps.exif_transpose(img).save("ref/o%d.png" % o)  # what a viewer shows
    Image.open("ph/o%d.jpg" % o).save("raw/o%d.png" % o)   # the pixels as stored
PYEOF
    cp -r ph ph.orig
    # strip FILE.json: the detections without the "file" key, one per line.
    strip() { "$PY" -c 'import json,sys; [print(json.dumps({k: v for k, v in e.items() if k != "file"})) for e in json.load(open(sys.argv[1]))]' "$1" \
        || fail "$1 is not a valid detections JSON"; }
    for o in 1 2 3 4 5 6 7 8; do
        "$BF" detect -m "$MODEL" $SIZE --json jpg.json --txt --draw -o out.jpg ph/o$o.jpg 2>err.txt; expect_rc $? 0 "o$o.jpg"
        "$BF" detect -m "$MODEL" $SIZE --json ref.json --txt --draw -o out.ref ref/o$o.png 2>err.txt; expect_rc $? 0 "ref/o$o.png"
        [ -s ref.json ] && [ "$(strip ref.json | wc -l)" -ge 1 ] || fail "no detections on ref/o$o.png"
        [ "$(strip jpg.json)" = "$(strip ref.json)" ] || fail "orientation $o: detections differ from the displayed frame:
$(strip jpg.json)
-- displayed:
$(strip ref.json)"
        cmp -s out.jpg/o$o.txt out.ref/o$o.txt || fail "orientation $o: --txt differs from the displayed frame"
        cmp -s out.jpg/o$o.jpg out.ref/o$o.jpg || fail "orientation $o: --draw differs from the displayed frame"
        "$BF" detect -m "$MODEL" $SIZE --no-exif --json jpg.json ph/o$o.jpg 2>err.txt; expect_rc $? 0 "--no-exif o$o.jpg"
        "$BF" detect -m "$MODEL" $SIZE --json raw.json raw/o$o.png 2>err.txt; expect_rc $? 0 "raw/o$o.png"
        [ "$(strip jpg.json)" = "$(strip raw.json)" ] || fail "orientation $o: --no-exif differs from the stored frame"
    done
    # The drawn picture is in the displayed frame: 240 x 159 for every orientation.
    "$PY" -c 'from PIL import Image; import sys; assert Image.open(sys.argv[1]).size == (240, 159), Image.open(sys.argv[1]).size' out.jpg/o6.jpg \
        || fail "--draw of o6.jpg is not 240x159"
    # Orientation 6 turns the frame: --no-exif finds something else there.
    "$BF" detect -m "$MODEL" $SIZE --no-exif --json a.json ph/o6.jpg 2>err.txt
    "$BF" detect -m "$MODEL" $SIZE --json b.json ph/o6.jpg 2>err.txt
    [ "$(strip a.json)" != "$(strip b.json)" ] || fail "--no-exif made no difference on orientation 6"
    # --resume keeps the two apart (the journal's fingerprint names --no-exif).
    rm -rf res && "$BF" detect -m "$MODEL" $SIZE --resume -o res --json r1.json ph/o6.jpg 2>err.txt; expect_rc $? 0 "resume 1"
    "$BF" detect -m "$MODEL" $SIZE --resume --no-exif -o res --json r2.json ph/o6.jpg 2>err.txt; expect_rc $? 0 "resume 2"
    [ "$(strip r2.json)" = "$(strip a.json)" ] || fail "--resume --no-exif reused detections made with EXIF applied"
    # eval: labels in the displayed frame (those detect wrote for the upright
    # picture) score the oriented JPEG as the upright PNG, in both modes.
    mkdir -p ev/img ev/lab evref/img
    cp ph/o6.jpg ev/img/a.jpg && cp ref/o6.png evref/img/a.png && cp out.ref/o6.txt ev/lab/a.txt || fail "cp"
    m1=$("$BF" eval -m "$MODEL" --size 160 --images ev/img --labels ev/lab --json 2>err.txt); expect_rc $? 0 "eval -m oriented"
    m2=$("$BF" eval -m "$MODEL" --size 160 --images evref/img --labels ev/lab --json 2>err.txt); expect_rc $? 0 "eval -m upright"
    [ "$m1" = "$m2" ] || fail "eval -m: the oriented JPEG scores $m1, the upright picture $m2"
    "$BF" detect -m "$MODEL" --size 160 --conf 0.001 --json ev/dets.json ev/img/a.jpg 2>err.txt
    d1=$("$BF" eval --detections ev/dets.json --images ev/img --labels ev/lab --json 2>err.txt); expect_rc $? 0 "eval --detections"
    case $d1 in '{"map": 0.9'*|'{"map": 1.0'*) ;; *) fail "eval --detections of the oriented JPEG: $d1";; esac
    d2=$("$BF" eval --no-exif --detections ev/dets.json --images ev/img --labels ev/lab --json 2>err.txt)
    [ "$d2" != "$d1" ] || fail "eval --no-exif: labels were still read in the displayed frame ($d2)"
    diff -r ph ph.orig >/dev/null || fail "an input changed"
    no_temps
    ;;
non_utf8_names)
    # File names that are not UTF-8 go into the JSON as \udcXX escapes
    # (surrogateescape) and come back as the same bytes: in Python (json.load,
    # then open() or os.fsencode) and in eval --detections.
    mkdir -p ph lab
    cp "$ASSETS/chelsea.jpg" "$(printf 'ph/caf\351.jpg')"          # Latin-1 e-acute
    cp "$ASSETS/coffee.jpg" "$(printf 'ph/\377\376 odd.jpg')"      # never UTF-8
    cp "$ASSETS/astronaut.jpg" "$(printf 'ph/ok-\303\251.jpg')"    # valid UTF-8: written as is
    cp -r ph ph.orig
    "$BF" detect -m "$MODEL" $SIZE --txt -o lab --json d.json ph 2>err.txt; expect_rc $? 0 "detect"
    grep -q 'caf\\udce9\.jpg' d.json || fail "no \\udce9 escape in the JSON: $(grep file d.json | head -3)"
    grep -q '\\udcff\\udcfe odd\.jpg' d.json || fail "no \\udcff\\udcfe escape: $(grep file d.json | head -3)"
    grep -q "$(printf 'ok-\303\251')" d.json || fail "a UTF-8 name was escaped"
    ! grep -q 'ufffd' d.json || fail "U+FFFD in the JSON"
    "$PY" - d.json <<'PYEOF' || fail "the names do not round-trip through Python"
import json, os, sys
d = json.load(open(sys.argv[1]))
names = {os.fsencode(e["file"]) for e in d}
want = {b"ph/" + n for n in os.listdir(b"ph")}
assert names == want, (names, want)
for e in d:
    open(e["file"], "rb").close()  # Python's own open takes the escaped name
PYEOF
    # eval --detections finds each image by its name's bytes: every image matched.
    out=$("$BF" eval --detections d.json --images ph --labels lab --json --save-json coco.json 2>err.txt); expect_rc $? 0 "eval --detections"
    [ "$out" = '{"map": 1.000000, "map50": 1.000000, "images": 3}' ] || fail "eval --detections: $out $(cat err.txt)"
    ! grep -q 'not among the images' err.txt || fail "a name did not match: $(cat err.txt)"
    "$PY" -c 'import json,os,sys; ids = {os.fsencode(r["image_id"]) for r in json.load(open(sys.argv[1]))}; assert b"caf\xe9" in ids and b"\xff\xfe odd" in ids, ids' coco.json \
        || fail "--save-json image_id lost the bytes"
    # A file written by Python (json.dumps of os.fsdecode names) reads the same.
    "$PY" -c 'import json,os,sys; d = json.load(open(sys.argv[1])); json.dump(d, open(sys.argv[2], "w"))' d.json py.json
    out2=$("$BF" eval --detections py.json --images ph --labels lab --json 2>err.txt); expect_rc $? 0 "eval of Python's JSON"
    [ "$out2" = "$out" ] || fail "Python's rewrite scores $out2"
    unchanged ph; no_temps
    ;;
eval_same_errors)
    # eval -m and eval --detections see the same data the same way: the same
    # images left out (a truncated JPEG), the same label errors (class 80 for
    # an 80-class model, out-of-range boxes), the same count scored.
    mkdir -p ph lab
    i=0
    for a in "$ASSETS"/*.jpg; do i=$((i + 1)); cp "$a" "ph/p$i.jpg"; done
    [ $i -ge 4 ] || fail "need 4 assets"
    "$BF" detect -m "$MODEL" $SIZE --txt -o lab ph 2>err.txt; expect_rc $? 0 "labels"
    "$BF" detect -m "$MODEL" --size 160 --conf 0.001 --json d.json ph 2>err.txt; expect_rc $? 0 "detections"
    n=$(wc -c < "$ASSETS/chelsea.jpg")
    head -c $((n / 2)) "$ASSETS/chelsea.jpg" > ph/trunc.jpg
    echo "80 0.5 0.5 0.2 0.2" >> lab/p2.txt                   # one past the 80 classes
    printf '0 0.5 0.5 0.2 0.2\n0 -0.49 0.5 0.2 0.2\n' > lab/p3.txt
    printf '\357\273\277' | cat - lab/p4.txt > bom.txt && mv bom.txt lab/p4.txt  # a BOM: accepted
    cp -r ph ph.orig
    m=$("$BF" eval -m "$MODEL" --size 160 --images ph --labels lab --json 2>err_m.txt); rm_=$?
    d=$("$BF" eval --detections d.json --images ph --labels lab --json 2>err_d.txt); rd=$?
    expect_rc $rm_ 1 "eval -m"; expect_rc $rd 1 "eval --detections"
    for f in err_m.txt err_d.txt; do
        grep -q '^bitfalcon: ph/trunc.jpg: JPEG is truncated or corrupt' $f || fail "$f: truncated JPEG not reported: $(cat $f)"
        grep -q '^bitfalcon: lab/p2.txt: line [0-9]*: class id out of range' $f || fail "$f: class 80 not reported: $(cat $f)"
        grep -q '^bitfalcon: lab/p3.txt: line 2: coordinates must be normalised to 0..1' $f || fail "$f: cx -0.49 not reported: $(cat $f)"
        ! grep -q 'p4' $f || fail "$f: the BOM label file was refused: $(cat $f)"
    done
    [ "$(grep '^bitfalcon: ' err_m.txt)" = "$(grep '^bitfalcon: ' err_d.txt)" ] \
        || fail "different messages: -m: $(cat err_m.txt) --detections: $(cat err_d.txt)"
    nm=$(echo "$m" | sed 's/.*"images": \([0-9]*\).*/\1/'); nd=$(echo "$d" | sed 's/.*"images": \([0-9]*\).*/\1/')
    [ "$nm" = "$nd" ] && [ "$nm" -eq $((i - 2)) ] || fail "images scored: -m $m, --detections $d (want $((i - 2)))"
    # --nc sets a detections file's class count (default 80, as the model's).
    d=$("$BF" eval --nc 81 --detections d.json --images ph --labels lab --json 2>err_d.txt)
    ! grep -q 'p2.txt' err_d.txt || fail "--nc 81 still refuses class 80: $(cat err_d.txt)"
    "$BF" eval -m "$MODEL" --nc 81 --images ph --labels lab 2>err.txt >/dev/null; expect_rc $? 2 "--nc with -m"
    unchanged ph; no_temps
    ;;
label_values)
    # Labels Ultralytics refuses are refused here, naming the file and line;
    # detection scores outside 0..1 refuse the detections file.
    mkdir -p ph lab
    cp "$ASSETS/chelsea.jpg" ph/a.jpg; cp "$ASSETS/coffee.jpg" ph/b.jpg; cp "$ASSETS/rocket.jpg" ph/c.jpg
    cp "$ASSETS/astronaut.jpg" ph/d.jpg; cp "$ASSETS/coffee.jpg" ph/e.jpg
    cp -r ph ph.orig
    echo '[]' > empty.json
    printf '15 0.5 0.5 0.9 0.9\n15 0.5 0.5 1.5 0.5\n' > lab/a.txt     # w = 1.5
    printf '0 -0.49 0.5 0.2 0.2\n' > lab/b.txt                          # cx = -0.49
    printf '0 0.5 0.5 0 0.2\n' > lab/c.txt                              # zero width
    printf '0 240 160 120 80\n' > lab/d.txt                             # pixels
    printf '\357\273\2770 0.5 0.5 0.2 0.2\r\n' > lab/e.txt              # BOM + CRLF: fine
    out=$("$BF" eval --detections empty.json --images ph --labels lab --json 2>err.txt); expect_rc $? 1 "bad labels"
    grep -q '^bitfalcon: lab/a.txt: line 2: coordinates must be normalised to 0..1' err.txt || fail "w 1.5: $(cat err.txt)"
    grep -q '^bitfalcon: lab/b.txt: line 1: coordinates must be normalised to 0..1' err.txt || fail "cx -0.49: $(cat err.txt)"
    grep -q '^bitfalcon: lab/c.txt: line 1: the box has zero width or height$' err.txt || fail "zero size: $(cat err.txt)"
    grep -q '^bitfalcon: lab/d.txt: line 1: .*is this file in pixels' err.txt || fail "pixels: $(cat err.txt)"
    ! grep -q 'e.txt' err.txt || fail "the BOM file was refused: $(cat err.txt)"
    [ "$out" = '{"map": 0.000000, "map50": 0.000000, "images": 1}' ] || fail "scored: $out"
    # Scores outside 0..1 in --detections: exit 2, the entry and the value named.
    for sc in 1.5 87 -0.2; do
        printf '[\n {"file": "a.jpg", "class": 15, "score": %s, "bbox": [1, 2, 3, 4]}\n]\n' "$sc" > bad.json
        "$BF" eval --detections bad.json --images ph --labels lab --json >/dev/null 2>err.txt; expect_rc $? 2 "score $sc"
        grep -q '^bitfalcon: bad.json: detection 1 (line 2, column 42): "score" is \(above 1\|negative\); it must be a confidence in 0..1' err.txt \
            || fail "score $sc: $(cat err.txt)"
    done
    unchanged ph; no_temps
    ;;
unsupported_inputs)
    # Valid files of kinds the decoders do not take are called unsupported,
    # not corrupt; a missing --labels folder is named; the JSON nesting limit
    # (64) is named.
    mkdir -p ph lab
    cp "$ASSETS/coffee.jpg" ph/good.jpg
    "$PY" - "$ASSETS/coffee.jpg" <<'PYEOF' || fail "cannot make the files"
import struct, sys
jpg = open(sys.argv[1], "rb").read()
sof = jpg.index(b"\xff\xc0")
open("ph/twelve.jpg", "wb").write(jpg[:sof + 4] + b"\x0c" + jpg[sof + 5:])   # 12 bits per sample
open("ph/lossless.jpg", "wb").write(jpg[:sof + 1] + b"\xc3" + jpg[sof + 2:])  # SOF3
w = h = 4
pal = b"".join(struct.pack("<BBBB", i, i, i, 0) for i in range(256))
rle = b"".join(b"\x04\x01\x00\x00" for _ in range(h)) + b"\x00\x01"          # RLE8 rows, end
off = 14 + 40 + len(pal)
dib = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 8, 1, len(rle), 2835, 2835, 256, 0)
open("ph/rle.bmp", "wb").write(b"BM" + struct.pack("<IHHI", off + len(rle), 0, 0, off) + dib + pal + rle)
PYEOF
    cp -r ph ph.orig
    "$BF" detect -m "$MODEL" $SIZE ph >/dev/null 2>err.txt; expect_rc $? 1 "unsupported files"
    grep -q '^bitfalcon: ph/twelve.jpg: 12-bit JPEG is not supported: only 8 bits per sample$' err.txt || fail "12-bit: $(cat err.txt)"
    grep -q '^bitfalcon: ph/lossless.jpg: lossless JPEG (frame marker 0xC3) is not supported' err.txt || fail "lossless: $(cat err.txt)"
    grep -q '^bitfalcon: ph/rle.bmp: RLE8-compressed BMP is not supported: only uncompressed BMP$' err.txt || fail "RLE: $(cat err.txt)"
    ! grep -q 'corrupt' err.txt || fail "called corrupt: $(cat err.txt)"
    "$BF" eval -m "$MODEL" --size 160 --images ph --labels nolabels >/dev/null 2>err.txt; expect_rc $? 2 "--labels missing"
    grep -q '^bitfalcon: nolabels: No such file or directory (the --labels folder)$' err.txt || fail "--labels: $(cat err.txt)"
    ! grep -q 'undefined' err.txt || fail "blamed the mAP: $(cat err.txt)"
    echo x > afile
    "$BF" eval --detections afile --images ph --labels afile >/dev/null 2>err.txt; expect_rc $? 2 "--labels a file"
    grep -q '^bitfalcon: afile: not a folder (the --labels folder)$' err.txt || fail "--labels file: $(cat err.txt)"
    "$PY" -c 'print("[" * 65 + "]" * 65)' > deep.json
    "$BF" eval --detections deep.json --images ph --labels lab >/dev/null 2>err.txt; expect_rc $? 2 "65 levels"
    grep -q '^bitfalcon: deep.json: JSON error at line 1, column 65: nesting too deep (more than 64 ' err.txt || fail "nesting: $(cat err.txt)"
    "$PY" -c 'print("[" * 64 + "]" * 64)' > ok.json
    "$BF" eval --detections ok.json --images ph --labels lab >/dev/null 2>err.txt
    ! grep -q 'nesting' err.txt || fail "64 levels refused: $(cat err.txt)"
    unchanged ph; no_temps
    ;;
*)
    fail "unknown case $CASE"
    ;;
esac
echo "ok: $CASE"
