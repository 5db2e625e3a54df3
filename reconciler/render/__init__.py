"""Rendering of plans, diagnostics and reports: text, JSON, Markdown, GitHub annotations."""
