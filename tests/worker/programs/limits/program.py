def spin(event):
    while True:
        pass

def bomb(event):
    hog = []
    while True:
        hog.append(bytearray(16 << 20))

def big(event):
    return len(bytearray(1 << 34))

def files(event):
    import tempfile, os
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(b"x")
    return [f.name, os.environ["HOME"]]
