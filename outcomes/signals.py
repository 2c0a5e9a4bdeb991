"""Queue the metrics job when results, enrolments or sessions change (stub)."""
