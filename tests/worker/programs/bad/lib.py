def boom(d):
    return d["b"]
