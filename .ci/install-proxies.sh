#!/usr/bin/env bash
# Installs what test/hosting/ needs: Debian's nginx and Apache (run by the tests
# as reverse proxies in front of the app), Squid (a forward proxy between the
# browser and the app in test/e2e/proxy-hold-*), curl and jq (the shell recipes in
# docs/CURL.md), php-cli with php-curl (the PHP recipe) and openssl (a
# throwaway certificate for the HTTPS checks) and libapache2-mod-passenger (the
# app under real Phusion Passenger, as cPanel and Plesk run it), and galera-4
# with rsync (test/cluster/ starts a 3-node Galera cluster of mariadbd processes
# whose joiners copy their state by rsync), and prosody (test/xmpp/prosody.test.ts
# runs the same XMPP client script against it and against the app). Idempotent and quiet: nothing is
# fetched when everything is already there, so CI pays for apt only once.
set -euo pipefail

packages=(nginx apache2 squid curl jq php-cli php-curl openssl libapache2-mod-passenger galera-4 rsync prosody)

missing=()
for pkg in "${packages[@]}"; do
  # dpkg-query knows a removed-but-configured package too; only "installed" counts.
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-proxies: installing ${missing[*]}"

# The tests start their own nginx, Apache and Squid on free loopback ports; the
# packages' own services must not start and grab port 80. policy-rc.d exit 101
# is Debian's documented way to say "do not start services" during installs.
created_policy=false
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  created_policy=true
fi
cleanup () {
  if [ "$created_policy" = true ]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
