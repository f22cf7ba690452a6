"""Side-by-side performance runs: kit vs floor vs naive (see harness.py)."""
