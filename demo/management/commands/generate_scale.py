"""``python manage.py generate_scale --learners N [--seed S]``: a synthetic academy for scale tests."""
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from demo.scale import DEFAULT_SEED, ScaleDataExists, generate_scale


class ProgressBar:
    """A one-line progress bar on stderr: ``writing sessions [#####.....] 52% 1,040,000 rows 18.2 s``."""

    WIDTH = 30

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, step: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.2 and done < total:
            return
        self.last = now
        share = done / total if total else 1.0
        filled = int(share * self.WIDTH)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(
            f"\r{step:<24} [{bar}] {share:4.0%} {done:>11,} rows {now - self.started:6.1f} s\033[K"
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Create a realistic synthetic academy of N learners (teams, cohorts since 2019, about 10 coaching "
        "sessions per learner, EPA results), then compute the metrics. COPY on PostgreSQL. Use a database of "
        "its own (e.g. academy_bench), never a real one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--learners", type=int, required=True, help="Number of learners (one enrolment each).")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed (same seed, same rows).")

    def handle(self, *args, learners, seed, **options):
        if learners < 1:
            raise CommandError("--learners must be at least 1.")
        bar = ProgressBar()
        started = time.monotonic()
        try:
            counts = generate_scale(learners=learners, seed=seed, progress=bar)
        except ScaleDataExists as exc:
            raise CommandError(f"{exc} Use an empty database (or drop it and migrate again).") from exc
        finally:
            bar.close()
        elapsed = time.monotonic() - started
        summary = ", ".join(f"{name} {count:,}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Synthetic academy written in {elapsed:.1f} s: {summary}."))
