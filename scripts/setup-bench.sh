#!/bin/sh
# Installs the peers bench:egress compares the egress gate with (Debian's packages). Not run by CI
# nor by the bench itself; run it once, as root, on a machine where you want the full table.
set -eu
apt-get install -y squid tinyproxy mitmproxy
