#!/usr/bin/env bash
# One-time setup on a fresh machine: system tools the tests use, then the Python package.
# Safe to run again; does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)   # PDF → PNG golden images of forms
# Headless browser of the web workbench test (driven by Playwright with executable_path, never `playwright install`)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)   # pyspark: the Spark SQL backend's tests
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: install ${need_apt[*]} (apt-get) for the PDF image, browser and Spark tests" >&2
  fi
fi

python3 -m pip install -q --disable-pip-version-check -e '.[test]'
command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
