"""The project's benchmarks (docs/benchmarks.md); `scripts/bench` runs them."""
