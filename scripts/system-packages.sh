#!/bin/sh
# System packages the test suite needs beyond Python: Debian's chromium (browser tests), a
# CJK font (Chinese pages in screenshots) and caddy (validates the shipped proxy sites). Installed with apt when missing and running as root;
# otherwise the browser tests skip and say why.
set -eu
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
[ -d /usr/share/fonts/opentype/noto ] || missing="$missing fonts-noto-cjk"
command -v caddy >/dev/null 2>&1 || missing="$missing caddy"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing system packages:$missing"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
else
    echo "note: missing system packages:$missing (their tests will be skipped)"
fi
