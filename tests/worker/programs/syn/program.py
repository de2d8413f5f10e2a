def f(x):
    return )
