"""`python -m atelier_platform.cli`: how `atelier up` and the tests start a command in a fresh
interpreter (the same entry as the `atelier` script)."""

from atelier_platform.cli import main

if __name__ == "__main__":
    main()
