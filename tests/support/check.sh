# Shared assertions for the shell tests (sourced).
failures=0
check() {  # check NAME EXPECTED ACTUAL
    if [ "$2" != "$3" ]; then
        echo "FAIL: $1: got '$3', expected '$2'"
        failures=$((failures + 1))
    else
        echo "ok: $1"
    fi
}
contains() {  # contains NAME FILE TEXT
    if grep -qF -- "$3" "$2"; then
        echo "ok: $1"
    else
        echo "FAIL: $1: '$3' not in:"
        sed 's/^/    /' "$2" | head -20
        failures=$((failures + 1))
    fi
}
finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures check(s) failed"
        exit 1
    fi
    echo "all checks passed"
}
