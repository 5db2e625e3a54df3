"""The engine: live reads (refresh), the apply executor and the importer."""
