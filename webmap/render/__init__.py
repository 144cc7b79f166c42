"""Rendering helpers: Folium maps, map layers, SVG and PDF."""
