"""Local fake servers that speak the real wire formats on 127.0.0.1."""
