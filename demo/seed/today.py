"""The demo's fixed "today", shared by every part of the demo academy and the scale data."""
import datetime as dt

DEMO_TODAY = dt.date(2026, 11, 29)
