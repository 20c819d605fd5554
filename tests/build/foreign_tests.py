#!/usr/bin/env python3
"""Print the names of the ctest tests in a build directory whose command is not
one of our own compiled programs (a shell, Python or Node driver, cmake -E ...),
one per line. Valgrind would only check the interpreter, not libicms, and
interpreters are slow and noisy under it, so scripts/test.sh leaves these out
of the valgrind stage; our programs started by such a driver are checked by the
sanitizer stage instead.

    tests/build/foreign_tests.py BUILD_DIR
"""
import json
import os
import subprocess
import sys


def main() -> int:
    build = os.path.realpath(sys.argv[1])
    listing = subprocess.run(
        ["ctest", "--test-dir", build, "--show-only=json-v1"],
        check=True, capture_output=True, text=True).stdout
    for test in json.loads(listing).get("tests", []):
        command = test.get("command")
        if not command:
            continue  # not built: let ctest report it
        program = os.path.realpath(command[0])
        ours = program.startswith(build + os.sep)
        if ours:
            with open(program, "rb") as f:
                ours = f.read(4) == b"\x7fELF"
        if not ours:
            print(test["name"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
