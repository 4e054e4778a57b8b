#!/usr/bin/env bash
# placeholder: being written (issue 11)
. "${srcdir:-.}/tests/lib.sh"
skip "not written yet"
