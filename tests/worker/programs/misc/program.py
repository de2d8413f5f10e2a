import io, sys, autokitteh
from autokitteh import AttrDict

def webhook(event):
    b = event.data.body.bytes
    print("partial", end="")
    sys.stdout.write("line1\nline2")
    print("after")
    buf = io.StringIO()
    print("to buf", file=buf)
    print(1, 2, 3, sep="-")
    print()
    print("x" * 10, end="!\n")
    return [type(b).__name__, b.decode(), buf.getvalue(), event.event_id, event.event_type]

def sdk(event):
    out = {}
    for name in ["outcome", "publish_value", "unpublish_value", "get_store_public_url"]:
        try:
            getattr(autokitteh, name)("x")
        except autokitteh.AutoKittehError as e:
            out[name] = str(e)
    try:
        autokitteh.get_webhook_url("nope")
    except autokitteh.AutoKittehError as e:
        out["nope"] = str(e)
    out["hook"] = autokitteh.get_webhook_url("hook")
    @autokitteh.activity
    def a(): return 5
    out["activity"] = a()
    out["all_ok"] = all(hasattr(autokitteh, n) for n in autokitteh.__all__)
    out["sig"] = repr(autokitteh.Signal("n", 1))
    out["ad"] = AttrDict({"a": {"b": 2}}).a.b
    return out
