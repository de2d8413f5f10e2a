def ok(e): pass
