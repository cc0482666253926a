#!/usr/bin/env bash
# Set up a virtual environment with qdocs and its test dependencies, then run every test.
# Usage: bash tools/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
# PDF tests need LibreOffice with Chinese fonts and poppler (pdfsig, pdftoppm, pdffonts).
pdf_packages="libreoffice-writer-nogui fonts-noto-cjk poppler-utils"
if ! command -v soffice >/dev/null 2>&1 || ! command -v pdfsig >/dev/null 2>&1 \
   || { command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh family)" ]; }; then
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; }; then
    as_root=""; [ "$(id -u)" -eq 0 ] || as_root="sudo -n"
    echo "installing $pdf_packages (for the PDF tests) ..." >&2
    { $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
      && $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pdf_packages >/dev/null; } \
      || echo "could not install $pdf_packages; the PDF tests will fail" >&2
  else
    echo "the PDF tests need LibreOffice and poppler: install them with" >&2
    echo "  sudo apt-get install -y $pdf_packages   (macOS: brew install --cask libreoffice; brew install poppler)" >&2
  fi
fi
# The end-to-end tests of the web application drive Debian's Chromium with Playwright (never a
# browser Playwright would download).
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; }; then
    as_root=""; [ "$(id -u)" -eq 0 ] || as_root="sudo -n"
    echo "installing chromium (for the browser tests) ..." >&2
    { $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
      && $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
      || echo "could not install chromium; the browser tests will be skipped" >&2
  else
    echo "the browser tests need Chromium: sudo apt-get install -y chromium" >&2
  fi
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e '.[test]'
exec .venv/bin/python -m pytest "$@"
