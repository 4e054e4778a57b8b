#!/usr/bin/env bash
# placeholder: being written (issue 12)
. "${srcdir:-.}/tests/lib.sh"
skip "not written yet"
