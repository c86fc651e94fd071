"""The ``hpsearch`` command installed with the package: the Rust binary's own
command line, compiled into the extension."""

import sys

from . import _native


def main() -> None:
    sys.exit(_native.cli_main(["hpsearch", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
