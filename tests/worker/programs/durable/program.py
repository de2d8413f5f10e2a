import asyncio
import json
import random
import time

import autokitteh
from autokitteh import activity, inhibit_activities

import helper


@activity
def roll(n):
    # One activity: the random calls inside it are not activities.
    return [random.randint(1, 6) for _ in range(n)]


@inhibit_activities
def quiet():
    return random.random()


def main(event):
    print("start")
    r = random.random()
    t = time.time()
    h = helper.double(21)
    j = json.dumps({"a": 1})
    n = len(j)
    dice = roll(3)
    q = quiet()
    time.sleep(1)
    print("end", h, n)
    return {"r": r, "t": t, "h": h, "n": n, "dice": dice, "q": isinstance(q, float)}


def other(event):
    return time.time()


@activity
def gen():
    return (i for i in range(3))


def unpicklable(event):
    return list(gen())


def lam(event):
    f = make_lambda()
    return f()


@activity
def make_lambda():
    return lambda: 1


@activity
def fails():
    raise ValueError("nope")


def errors(event):
    try:
        fails()
    except ValueError as e:
        return "caught " + str(e)


@activity
def big():
    return "x" * 1000


def too_big(event):
    return len(big())


def boom(event):
    x = random.random()
    return helper.fail(
        "b" if x < 2 else "a")


@activity
async def fetch(x):
    await asyncio.sleep(0)
    return x + 1


async def amain(event):
    await asyncio.sleep(0)
    v = await fetch(41)
    return v


class Base:
    def hello(self):
        return "base"


class Child(Base):
    def hello(self):
        return "child+" + super().hello()


def methods(event, session_id):
    c = Child()
    parts = "a,b".split(",")
    d = dict(x=1)
    d.update(y=2)
    return [c.hello(), parts, sorted(d.items()), session_id]


@activity
def whole(event):
    return [random.random() < 1, time.time() > 0]
