"""Login, users, roles and API keys."""
