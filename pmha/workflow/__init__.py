"""Each applicant's requirement plan, materialised as steps with a state machine, and clearance."""
