import os, json, ssl, sys
import autokitteh
from helper import greet

def on_hook(event):
    print("hello", event.event_type, event.data.x)
    sys.stderr.write("to stderr\n")
    print("env", sorted(os.environ), os.getcwd(), os.getuid())
    print("fds", sorted(os.listdir("/proc/self/fd")))
    return {"greeting": greet("world"), "sid": event.session_id}

def with_sid(event, session_id):
    return session_id

async def coro(event):
    return 42

def obj(event):
    return object()

def info(event):
    import sys
    return {"exe": sys.executable, "prefix": sys.prefix, "path": sys.path}

def sleep(event):
    import time
    time.sleep(60)
