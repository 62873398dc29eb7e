"""`python -m orion_cli` runs the command line."""

from orion_cli.cli import main

if __name__ == "__main__":
    main()
