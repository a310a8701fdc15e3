#!/bin/sh
# Install Pay Spot as a service on a Debian/Raspberry Pi OS machine (run as root from the
# source tree). Idempotent.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
apt-get install -y python3-venv libusb-1.0-0
id paykiosk >/dev/null 2>&1 || useradd --system --home /var/lib/paykiosk --shell /usr/sbin/nologin paykiosk
mkdir -p /opt/paykiosk /etc/paykiosk
python3 -m venv /opt/paykiosk/.venv
/opt/paykiosk/.venv/bin/pip install "$src"
[ -f /etc/paykiosk/paykiosk.toml ] || install -m 0640 -g paykiosk "$src/systemd/paykiosk.toml.example" /etc/paykiosk/paykiosk.toml
install -m 0644 "$src/systemd/paykiosk.service" /etc/systemd/system/paykiosk.service
install -m 0644 "$src/systemd/99-paykiosk.rules" /etc/udev/rules.d/99-paykiosk.rules
echo "blacklist port100" > /etc/modprobe.d/paykiosk-blacklist-port100.conf
udevadm control --reload-rules || true
systemctl daemon-reload
echo "Edit /etc/paykiosk/paykiosk.toml, put the client secret in /etc/paykiosk/client_secret"
echo "(chown paykiosk, chmod 600), then: systemctl enable --now paykiosk"
