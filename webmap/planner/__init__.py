"""Planner pages: hotspot map, weekly lägesbild, meeting, actions, moderation, exports."""
