"""Patrol page for trygghetsvärdar: tonight's plan and observations."""
