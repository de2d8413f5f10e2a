import json
from lib import boom

def on_hook(event):
    data = json.loads('{"a": 1}')
    return boom(data)

def exits(event):
    raise SystemExit(3)

class MyErr(Exception):
    pass

def custom(event):
    raise MyErr("multi\nline")

def attr(event):
    return event.data.missing

def importerr(event):
    import lib2
