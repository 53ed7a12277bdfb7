"""Clinical record: exams, labs and radiology."""
