def double(x):
    return x * 2


def fail(key):
    d = {"a": 1}
    return d[key]
