#!/bin/sh
# Runs the README's two commands as a new Raspberry Pi OS / Debian arm64 user
# would, in a fresh Debian 12 arm64 root under qemu-user on an x86-64 host, and
# times each step (issue 16, option 2; docs/raspberry-pi.md). Not part of CI:
# emulating the compiler and both suites takes hours on two cores.
#
#   sudo ./scripts/arm64-fresh-root.sh [ROOT_DIR]      (default /var/tmp/bf-arm64-root)
#
# Needs debootstrap, qemu-user-static and binfmt-support on the host. The
# repository is cloned into the root from this checkout's HEAD (commit first);
# ../shared is not copied, so its tests skip as on a user's machine. The log,
# with a line per step and its seconds, is ROOT_DIR.log; the root is kept for a
# look afterwards (remove it with: sudo ./scripts/arm64-fresh-root.sh --clean ROOT_DIR;
# run again in it, skipping debootstrap, with --reuse ROOT_DIR).
set -eu
cd "$(dirname "$0")/.."
repo="$(pwd)"

unmount_root() {
    for m in dev/pts dev proc sys; do umount -l "$root/$m" 2>/dev/null || true; done
}
reuse=0
case "${1:-}" in
    --clean) root="${2:-/var/tmp/bf-arm64-root}"; unmount_root; rm -rf "$root"; exit 0 ;;
    --reuse) reuse=1; root="${2:-/var/tmp/bf-arm64-root}" ;;  # skip debootstrap, clone again
    *) root="${1:-/var/tmp/bf-arm64-root}" ;;
esac
log="$root.log"
[ "$(id -u)" -eq 0 ] || { echo "arm64-fresh-root: run as root (debootstrap, chroot, mounts)" >&2; exit 2; }
for tool in debootstrap qemu-aarch64-static update-binfmts; do
    command -v "$tool" >/dev/null || {
        echo "arm64-fresh-root: $tool missing: apt-get install debootstrap qemu-user-static binfmt-support" >&2; exit 2; }
done
if [ "$reuse" -eq 1 ]; then
    [ -x "$root/usr/bin/sudo" ] || { echo "arm64-fresh-root: no prepared root at $root" >&2; exit 2; }
elif [ -e "$root" ]; then
    echo "arm64-fresh-root: $root exists; --clean it first, or --reuse it" >&2; exit 2
fi

# A container may not have binfmt_misc mounted; the chroot needs it to run
# arm64 programs (the F flag makes the kernel keep qemu open, so nothing is
# copied into the root).
[ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
grep -q enabled "$entry" 2>/dev/null || {
    echo "arm64-fresh-root: qemu-aarch64 is not registered in binfmt_misc" >&2; exit 2; }
# Debian registers qemu without the C flag, so a setuid arm64 program runs
# with the caller's credentials and the user's `sudo` in setup.sh fails
# ("effective uid is not 0"). Register it again with C (credentials from the
# program, which implies O), keeping its magic, mask and interpreter.
if ! grep -q '^flags: .*C' "$entry"; then
    interp=$(sed -n 's/^interpreter //p' "$entry")
    magic=$(sed -n 's/^magic //p' "$entry" | sed 's/../\\x&/g')
    mask=$(sed -n 's/^mask //p' "$entry" | sed 's/../\\x&/g')
    echo -1 > "$entry"
    printf ':qemu-aarch64:M::%s:%s:%s:PFC\n' "$magic" "$mask" "$interp" > /proc/sys/fs/binfmt_misc/register
    grep -q '^flags: .*C' "$entry" || { echo "arm64-fresh-root: could not add the C flag to qemu-aarch64" >&2; exit 2; }
fi

[ "$reuse" -eq 1 ] || : > "$log"
say() { echo "$*" | tee -a "$log"; }
step() {  # step NAME COMMAND...: runs it, logs its seconds and status, stops at a failure
    name="$1"; shift
    t0=$(date +%s)
    say "== $name: start $(date -u +%H:%M:%S)"
    rc=0; "$@" >>"$log" 2>&1 || rc=$?
    say "== $name: rc $rc in $(( $(date +%s) - t0 )) s"
    [ "$rc" -eq 0 ] || exit "$rc"
}
# Unmount on every way out; a signal also ends the run (a trap that returned
# would let the script go on to the next step).
trap unmount_root EXIT
trap 'exit 130' INT TERM

say "arm64 fresh root at $root (reused: $reuse), clone of $(git -C "$repo" rev-parse --short HEAD), host $(uname -m), $(nproc) CPUs"
if [ "$reuse" -eq 0 ]; then
step "debootstrap first stage" debootstrap --arch=arm64 --foreign bookworm "$root" http://deb.debian.org/debian
step "debootstrap second stage" chroot "$root" /debootstrap/debootstrap --second-stage
fi
# The host's apt settings (its mirror, its validity settings) and resolver.
cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || true
cp /etc/apt/apt.conf.d/99* "$root/etc/apt/apt.conf.d/" 2>/dev/null || true
[ -e /etc/apt/sources.list.d/debian.sources ] && rm -f "$root/etc/apt/sources.list"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"

in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
if [ "$reuse" -eq 0 ]; then
step "prerequisites (git ca-certificates sudo, a user)" in_root sh -c '
    apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git ca-certificates sudo &&
    useradd -m -s /bin/bash pi &&
    echo "pi ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/pi'
fi
rm -rf "$root/home/pi/bitfalcon"
git clone -q --no-local "$repo" "$root/home/pi/bitfalcon"
in_root chown -R pi:pi /home/pi/bitfalcon
as_user() { in_root su - pi -c "cd ~/bitfalcon && $*"; }
step "./scripts/setup.sh" as_user ./scripts/setup.sh
say "assets.json sha256 $(sha256sum "$root/home/pi/bitfalcon/out/assets.json" | cut -d' ' -f1)"
step "./scripts/test.sh" as_user ./scripts/test.sh
say "arm64 fresh root: both commands passed"
