#!/bin/sh
# Install Pay Spot as a service on 64-bit Raspberry Pi OS / Debian 12: run as root from the
# source tree (sudo systemd/install.sh). Idempotent: a second run changes nothing it should not
# (an edited configuration and the secret are kept).
#
# Staging (CI, image builds): DESTDIR=/some/folder systemd/install.sh installs the same files
# with the same modes under that folder and leaves the machine alone: no apt-get, no new user,
# no udev or systemd reload; the venv gets only this package (its dependencies are the test
# suite's business); the service is enabled in the staged tree (systemctl --root). Owners are
# set when run as root; KIOSK_USER / KIOSK_GROUP name who owns the kiosk's files there
# (default paykiosk, which staging does not create).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
root=${DESTDIR:-}
user=${KIOSK_USER:-paykiosk}
group=${KIOSK_GROUP:-$user}
staging=${root:+yes}

# What the kiosk needs from Debian: the venv, libusb (nfcpy), the Japanese fonts the screens
# use, Mesa's EGL/GBM/DRI for Kivy's SDL on KMS/DRM, libmtdev for multitouch, and the sqlite3
# shell that paykiosk journal --recover reads a damaged journal with (installed now: a kiosk
# whose journal is damaged may be where no network is), and the voice's synthesizers: Open
# JTalk with its dictionary (Japanese) and eSpeak NG (English), offline.
packages="python3-venv libusb-1.0-0 fonts-ipaexfont-gothic fonts-noto-cjk libegl1 libegl-mesa0
libgbm1 libgl1-mesa-dri libmtdev1 sqlite3 open-jtalk open-jtalk-mecab-naist-jdic espeak-ng"
# WITH_PCSC=1: a PC/SC reader (Sony RC-S300): pcscd, and pyscard built from source.
extra=""
if [ "${WITH_PCSC:-}" = 1 ]; then
    packages="$packages pcscd libccid libpcsclite-dev python3-dev gcc"
    extra="[pcsc]"
fi

say() { echo "install: $*"; }

if [ -z "$staging" ]; then
    [ "$(id -u)" = 0 ] || { echo "install: run as root (sudo $0)" >&2; exit 1; }
    # shellcheck disable=SC2086
    apt-get install -y $packages
    id "$user" >/dev/null 2>&1 ||
        useradd --system --home-dir /var/lib/paykiosk --no-create-home --shell /usr/sbin/nologin "$user"
    for extra in dialout plugdev gpio video render input; do
        getent group "$extra" >/dev/null && usermod -a -G "$extra" "$user"
    done
else
    say "staging into $root: packages not installed ($(echo $packages)), no user made"
fi

owned() {  # owned MODE OWNER GROUP PATH: mode always, owner when we may set it
    chmod "$1" "$4"
    if [ "$(id -u)" = 0 ]; then chown "$2:$3" "$4"; fi
}

mkdir -p "$root/opt/paykiosk" "$root/etc/paykiosk" "$root/etc/systemd/system" \
    "$root/etc/udev/rules.d" "$root/etc/modprobe.d" "$root/var/lib/paykiosk"
owned 0750 root "$group" "$root/etc/paykiosk"
owned 0700 "$user" "$group" "$root/var/lib/paykiosk"

# The program: a venv of its own (Kivy has aarch64 wheels; no armv7l ones: 64-bit OS only).
[ -x "$root/opt/paykiosk/.venv/bin/python" ] || python3 -m venv "$root/opt/paykiosk/.venv"
if [ -n "$staging" ]; then
    "$root/opt/paykiosk/.venv/bin/pip" install -q --no-deps "$src"
else
    "$root/opt/paykiosk/.venv/bin/pip" install -q "$src$extra"
fi
install -m 0644 "$src/README.md" "$root/opt/paykiosk/README.md"
# The pages the README links to (running the kiosk, staff, deployment), beside it.
install -d -m 0755 "$root/opt/paykiosk/docs"
install -m 0644 "$src"/docs/*.md "$root/opt/paykiosk/docs/"

# Configuration: readable by the kiosk's group, never by others; kept if it exists.
if [ ! -f "$root/etc/paykiosk/paykiosk.toml" ]; then
    install -m 0640 "$src/systemd/paykiosk.toml.example" "$root/etc/paykiosk/paykiosk.toml"
fi
owned 0640 root "$group" "$root/etc/paykiosk/paykiosk.toml"
# The wallet's client secret (and the TLS key beside it): the kiosk's user only.
[ -f "$root/etc/paykiosk/client_secret" ] || : >"$root/etc/paykiosk/client_secret"
owned 0600 "$user" "$group" "$root/etc/paykiosk/client_secret"
if [ -f "$root/etc/paykiosk/client.key" ]; then
    owned 0600 "$user" "$group" "$root/etc/paykiosk/client.key"
fi

install -m 0644 "$src/systemd/paykiosk.service" "$root/etc/systemd/system/paykiosk.service"
install -m 0644 "$src/systemd/99-paykiosk.rules" "$root/etc/udev/rules.d/99-paykiosk.rules"
echo "blacklist port100" >"$root/etc/modprobe.d/paykiosk-blacklist-port100.conf"
chmod 0644 "$root/etc/modprobe.d/paykiosk-blacklist-port100.conf"

if [ -n "$staging" ]; then
    systemctl --root="$root" enable paykiosk.service
    say "staged in $root"
    exit 0
fi
udevadm control --reload-rules || true
[ -z "$extra" ] || systemctl enable --now pcscd.socket
systemctl daemon-reload
systemctl enable paykiosk.service
if [ ! -s /etc/paykiosk/client_secret ]; then
    say "now: edit /etc/paykiosk/paykiosk.toml, put the wallet's client secret in"
    say "/etc/paykiosk/client_secret (already 0600, owned by $user), then: systemctl start paykiosk"
else
    say "done: systemctl restart paykiosk (or reboot)"
fi
