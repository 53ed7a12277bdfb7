"""TB classification, treatment episodes under DOT, adherence and clearance gating."""
