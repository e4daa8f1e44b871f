"""Checks ONNX files with the onnx package (Debian's python3-onnx): the
checker with full shape inference, and that the file is exactly the
package's own serialisation of what it read (our encoder writes fields in
the canonical order, so any stray or misplaced byte shows).

    /usr/bin/python3 tests/onnx/check_onnx.py MODEL.onnx...

Exits 77 (the automake convention for "skipped") without the onnx package.
"""
import sys

try:
    import onnx
except ImportError:
    print('the onnx package (python3-onnx) is not installed')
    sys.exit(77)


def main():
    failed = 0
    for path in sys.argv[1:]:
        with open(path, 'rb') as f:
            data = f.read()
        try:
            model = onnx.load_from_string(data)
            onnx.checker.check_model(model, full_check=True)
            if model.SerializeToString() != data:
                raise ValueError('not the canonical serialisation of its own content')
            print(f'ok   {path}: opset {model.opset_import[0].version}, {len(model.graph.node)} nodes')
        except Exception as e:  # the checker raises several kinds
            print(f'FAIL {path}: {str(e).splitlines()[0]}')
            failed += 1
    print(f'onnx.checker: {len(sys.argv) - 1 - failed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
