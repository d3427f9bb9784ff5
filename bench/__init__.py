"""The project's benchmarks (CONTRACT §7); `scripts/bench` runs them."""
