#!/usr/bin/env bash
# The VXUs a registry receives, checked independently of the test suite: the demo messages
# (every CDC IG R1.5 pattern, names in several scripts, both VIS forms, A/U/D; see
# pmha/exports/hl7/selfcheck.py) are built, parsed by hl7apy with VALIDATION_LEVEL.STRICT and
# validated, checked against the guide's conformance rules and read back unchanged. The
# registry file (country_rules/hl7/vxu.toml) must load: a bad code there fails the check.
#
#   scripts/check-vxu.sh            (PYTHON=... to use another interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m pmha.exports.hl7.selfcheck
