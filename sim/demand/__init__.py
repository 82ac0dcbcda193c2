"""Demand, the establishment and finance (planning boxes 0-2), computed once, outside the engines."""
