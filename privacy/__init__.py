"""Privacy: a learner's subject access export, erasure (anonymisation) and the retention job.

It reaches every record that holds a learner's personal data, in every app, so it sits at
the top of the product layers (docs/architecture.md).
"""
