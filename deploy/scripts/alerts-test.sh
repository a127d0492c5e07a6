#!/usr/bin/env bash
# Checks and unit-tests the Prometheus rules of deploy/observability with
# promtool: every alert has a firing and a resolving case (rules_test.yml).
# promtool comes from Debian's prometheus package, installed here when
# missing (as root with apt-get); PROMTOOL may name another binary.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
say() { echo "alerts-test: $*" >&2; }

promtool="${PROMTOOL:-$(command -v promtool || true)}"
if [ -z "$promtool" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing promtool (Debian package prometheus) with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 || {
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1
    }
    # The package may start a Prometheus server; the tests need only promtool.
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
    promtool="$(command -v promtool || true)"
  fi
fi
if [ -z "$promtool" ]; then
  say "promtool not found: install Debian's prometheus package (or set PROMTOOL)"
  exit 1
fi

cd "$root/deploy/observability"
"$promtool" check rules rules.yml
"$promtool" test rules rules_test.yml
