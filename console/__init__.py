"""The agent desk, admin pages and JSON API routers."""
