"""Sites (assessment centres), family cases and applicants."""
