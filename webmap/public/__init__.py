"""Public pages and data: k-suppressed map, published grades, public actions."""
