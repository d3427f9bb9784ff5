"""Loops, agents, presence, and the pure decision of whom to offer a call."""
