import os


def on_hook(event):
    print(os.getenv("GREETING"), event.data.body.json["name"])
    return {"ok": True}
