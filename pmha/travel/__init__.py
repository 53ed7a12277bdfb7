"""Departures: flights and the families on them, pre-departure screening (PDMS), pre-embarkation
checks (PEC/DHC), medical escorts, signed clearance certificates and the post-arrival handover.

Built on the workflow's clearance (pmha.workflow): this package adds what the flight decides,
the exam's validity against the departure date, the check windows and the carrier's rules.
"""
