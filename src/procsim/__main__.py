"""``python -m procsim``."""

from procsim.cli import main

if __name__ == "__main__":
    main()
