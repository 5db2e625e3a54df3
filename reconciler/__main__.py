"""`python -m reconciler` is `pushctl`."""

from reconciler.cli.main import main

main()
