#!/usr/bin/env bash
# Independent check of the DICOM files PMHA writes: synthetic chest X-rays (CR, DX, Secondary
# Capture; MONOCHROME1 and 2; explicit and implicit VR) go through pmha.exams.dicom (inspect,
# store, de-identify), then dciodvfy (dicom3tools) validates every original, stored and
# de-identified file against its IOD. Warnings are allowed; any "Error" line fails the check.
#
#   scripts/check-dicom.sh            (PYTHON=... to use another interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}

if ! command -v dciodvfy >/dev/null 2>&1; then
  echo "check-dicom: dciodvfy not found (Debian package dicom3tools): run scripts/install-system-deps.sh" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$PY" - "$work" <<'PY'
import secrets
import sys
from pathlib import Path

from pmha.core import file_crypto
from pmha.exams import dicom
from tests.exams import dicom_factory as factory

work = Path(sys.argv[1])
for sub in ("original", "stored", "deidentified"):
    (work / sub).mkdir()
# storage keeps files encrypted at rest (pmha.core.file_crypto): what it gives back is checked
file_crypto.register(work / "storage", file_crypto.FileCipher.from_text(file_crypto.new_key_text("ci")))
mapper = dicom.UidMapper(secrets.token_bytes(32))
variants = {
    "cr-mono2": {},
    "cr-mono1": {"photometric": "MONOCHROME1"},
    "cr-16bit": {"bits_stored": 16, "window": (30000.0, 60000.0)},
    "cr-implicit-vr": {"implicit_vr": True},
    "dx-mono2": {"sop_class": factory.DX, "modality": "DX"},
    "dx-mono1": {"sop_class": factory.DX, "modality": "DX", "photometric": "MONOCHROME1"},
    "sc": {"sop_class": factory.SC, "modality": "OT", "body_part": None, "view": None},
}
files = {name: factory.make(rows=512, columns=400, **spec) for name, spec in variants.items()}
cr, sc = factory.study_of_two()
files |= {"study-cr": cr, "study-sc": sc}
for name, data in files.items():
    dicom.inspect(data)
    (work / "original" / f"{name}.dcm").write_bytes(data)
    digest = dicom.store(data, work / "storage" / "dicom").stem
    (work / "stored" / f"{name}.dcm").write_bytes(dicom.load(digest, work / "storage" / "dicom"))
    (work / "deidentified" / f"{name}.dcm").write_bytes(dicom.deidentify(data, mapper))
print(f"check-dicom: wrote {len(files)} synthetic images, stored and de-identified")
PY

checked=0
failed=0
while IFS= read -r -d '' file; do
  checked=$((checked + 1))
  status=0
  output=$(dciodvfy "$file" 2>&1) || status=$?
  if grep -q "Error" <<<"$output" || [ "$status" -gt 1 ]; then
    failed=$((failed + 1))
    echo "check-dicom: ${file#"$work"/} (exit $status)"
    grep "Error" <<<"$output" | sed 's/^/    /' || true
  fi
done < <(find "$work/original" "$work/stored" "$work/deidentified" -name '*.dcm' -print0 | sort -z)

echo "check-dicom: dciodvfy checked $checked files: $failed with errors"
[ "$checked" -gt 0 ] && [ "$failed" -eq 0 ]
