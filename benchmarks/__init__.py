"""wfsim performance benchmarks (SPEC §5): ``python -m benchmarks.run [--quick]`` from the repo root.

Nothing here is a test: timings are printed and written to JSON, never asserted.
"""
