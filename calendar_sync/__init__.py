"""Calendar sources (EWS, Graph, ICS) and the busy intervals routing reads."""
