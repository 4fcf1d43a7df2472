"""Benchmarks. `python -m bench` runs every module here exposing `run() -> None`;
`python -m bench quotes` runs one. Results are printed, never asserted."""
