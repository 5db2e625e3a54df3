"""The command line: parsing, calling the engine, rendering, mapping errors to exit codes."""
