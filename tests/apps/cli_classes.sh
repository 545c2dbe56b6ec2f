#!/bin/sh
# cli_classes.sh BITFALCON MODEL ASSETS
#
# `bitfalcon detect --classes`: ids and the model's names mixed, spaces around
# entries; a name or id the model does not have is a usage error (exit 2) with
# a one-line cause. Skips (77) without the model.
set -u
BF=$1 MODEL=$2 ASSETS=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -f "$MODEL" ] || { echo "SKIP: no model $MODEL"; exit 77; }
all=$("$BF" detect -m "$MODEL" --conf 0.05 "$ASSETS/chelsea.jpg" "$ASSETS/coffee.jpg") || fail "detect failed"
echo "$all"
echo "$all" | grep -q ": cat " && echo "$all" | grep -q ": cup " && echo "$all" | grep -qv ": cat \|: cup " ||
    fail "expected cat, cup and other classes: $all"
some=$("$BF" detect -m "$MODEL" --conf 0.05 --classes "cat, 41" "$ASSETS/chelsea.jpg" "$ASSETS/coffee.jpg") ||
    fail "detect --classes failed"
echo "$some"
[ "$some" = "$(echo "$all" | grep ": cat \|: cup ")" ] || fail "--classes 'cat, 41' kept: $some"
err=$("$BF" detect -m "$MODEL" --classes "0,rocket" "$ASSETS/chelsea.jpg" 2>&1 >/dev/null)
[ $? -eq 2 ] || fail "unknown name: not a usage error"
[ "$err" = "bitfalcon: --classes: 'rocket' is not a class of the model (80 classes: person, bicycle, ...)" ] ||
    fail "unknown name message: $err"
err=$("$BF" detect -m "$MODEL" --classes "80" "$ASSETS/chelsea.jpg" 2>&1 >/dev/null)
[ $? -eq 2 ] && [ "$err" = "bitfalcon: --classes: class 80 is not in 0..79" ] || fail "bad id: $err"
err=$("$BF" detect -m "$MODEL" --classes "cat,,dog" "$ASSETS/chelsea.jpg" 2>&1 >/dev/null)
[ $? -eq 2 ] || fail "empty entry accepted: $err"
echo "ok"
