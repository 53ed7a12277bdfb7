#!/usr/bin/env bash
# What PMHA needs from the system beyond Python: Chromium for the browser tests, openssl and
# dicom3tools (dciodvfy, an independent DICOM validator) for the interoperability checks,
# poppler-utils (pdftoppm: PDFs looked at as images in tests), the DejaVu fonts for PDFs and
# Amiri (fonts-hosny-amiri), the Arabic face of Arabic documents.
# Installed from Debian's packages when missing (needs root and apt-get).
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v dciodvfy >/dev/null 2>&1 || need+=(dicom3tools)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
# node and npm: the FHIR validator of scripts/check-fhir.sh (Medplum's, from the npm registry)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
# pg_dump and pg_restore: `pmha backup` on PostgreSQL (tests/core/test_backup.py)
command -v pg_dump >/dev/null 2>&1 && command -v pg_restore >/dev/null 2>&1 || need+=(postgresql-client)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
[ -f /usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-Regular.ttf ] || need+=(fonts-hosny-amiri)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "PMHA's tests need: ${need[*]}. Install them with your package manager" >&2
  echo "(Debian/Ubuntu: sudo apt-get install ${need[*]}), then run make test again." >&2
  exit 1
fi
echo "installing ${need[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
