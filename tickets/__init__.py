"""Tickets: callbacks, messages to departments, follow-up, deadlines and escalation."""
