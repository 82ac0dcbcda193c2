"""wfsim performance benchmarks (goals in benchmarks/README.md): ``python -m benchmarks.run [--quick]`` from the repo root.

Nothing here is a test: timings are printed and written to JSON, never asserted.
"""
