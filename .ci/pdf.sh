#!/usr/bin/env bash
# CI step for the PDF output (issue 22): make sure pdftoppm (Debian's poppler-utils) is there, so
# the tests that render the CMS-1500, superbill and statement pages to PNG run instead of skipping.
# Installs it with apt-get when it is missing and we may; otherwise says the PNG tests will skip.
set -euo pipefail
if command -v pdftoppm >/dev/null 2>&1; then
  echo "== pdf: $(pdftoppm -v 2>&1 | head -n 1)"
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "== pdf: installing poppler-utils (pdftoppm)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends poppler-utils >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends poppler-utils >/dev/null; }
  echo "== pdf: $(pdftoppm -v 2>&1 | head -n 1)"
else
  echo "== pdf: pdftoppm is not installed and cannot be installed here: the PNG rendering tests will skip"
fi
