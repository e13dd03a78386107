# Runs the test_* functions of one portable test module on MicroPython (unix port or a board) and
# prints one line per failure or skip, then "RESULT <module> <passed> <failed> <skipped>".
import sys


def run(modname):
    passed = failed = skipped = 0
    mod = __import__(modname)
    for name in sorted(dir(mod)):
        if not name.startswith('test_'):
            continue
        fn = getattr(mod, name)
        try:
            fn()
            passed += 1
        except Exception as e:
            if type(e).__name__ == 'SkipTest':
                skipped += 1
                print('SKIP %s.%s: %s' % (modname, name, e))
            else:
                failed += 1
                print('FAIL %s.%s' % (modname, name))
                sys.print_exception(e)
    print('RESULT %s %d %d %d' % (modname, passed, failed, skipped))


if __name__ == '__main__':
    run(sys.argv[1])
