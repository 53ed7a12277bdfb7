"""Exports: what leaves PMHA for other systems, and what the receiving side reads back.

`hl7` (VXU messages), `fhir` (the IPS-style summary), `envelope` (CMS signed then encrypted, the
only user of cryptography's CMS), `parts`/`build`/`tasks` (a case's bundle, built by a job),
`keys` (certificates and rotation), `receive` (verify and import, all or nothing).
"""
