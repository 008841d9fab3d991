"""dphp.py - write dphp handlers in Python, standard library only.

The same protocol as dphp.sh (see dphp-handler(5)): one request per
line on stdin, one answer per line on stdout, so a handler works
one-shot and as a co-process (dphp-replay -k).

    import dphp
    def counter(req):                       # an entity
        n = (req["state"] or 0) + (req["input"] or 1)
        return {"state": n, "result": n}
    dphp.entity(counter)

Activities return their result; orchestrations get a Context.
Raise Refuse (entities, activities) or any exception to fail.
"""
import hashlib
import json
import sys


class Refuse(Exception):
    """Refuse an operation, or fail an activity, with this reason."""


class ActionFailed(Exception):
    """An awaited action failed; str() is its reason."""


class _End(Exception):
    def __init__(self, answer):
        super().__init__()
        self.answer = answer


def _serve(answer):
    for line in sys.stdin:
        try:
            out = answer(json.loads(line))
        except Refuse as e:
            out = {"error": str(e)}
        except Exception as e:  # a bug in the handler fails the operation
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out, separators=(",", ":")) + "\n")
        sys.stdout.flush()


def entity(fn):
    """fn(request) -> {"state", "result", "emit"}, each optional."""
    _serve(fn)


def activity(fn):
    """fn(request) -> its result."""
    _serve(lambda req: {"result": fn(req)})


class Task:
    def __init__(self, seq):
        self.seq = seq


class Context:
    """What an orchestration sees: its input and the replayed history."""

    def __init__(self, req):
        self.id = req["id"]
        self.input = req["input"]
        self.user = req["user"]
        self._req = req
        self._actions = []
        self._k = 0
        self._n = 0
        self._status = None

    def _act(self, action):
        self._actions.append(action)
        return Task(len(self._actions) - 1)

    def activity(self, name, input=None):
        return self._act({"kind": "activity", "name": name, "input": input})

    def call(self, entity, op, input=None):
        return self._act({"kind": "call", "to": entity, "op": op,
                          "input": input})

    def signal(self, entity, op, input=None):
        self._act({"kind": "signal", "to": entity, "op": op, "input": input})

    def start(self, orchestration, input=None):
        key = "to" if ":" in orchestration else "name"
        return self._act({"kind": "start", key: orchestration,
                          "input": input})

    def timer(self, after=None, at=None):
        return self._act({"kind": "timer", "after": after} if after
                         else {"kind": "timer", "at": at})

    def event(self, name):
        return self._act({"kind": "event", "name": name})

    def lock(self, *entities, lease=None):
        """The locks of the entities, all at once; wait for it before
        the critical section (its result holds the fencing tokens)."""
        action = {"kind": "lock", "entities": list(entities)}
        if lease is not None:
            action["lease"] = lease
        return self._act(action)

    def unlock(self):
        self._act({"kind": "unlock"})

    def _await(self, mode, tasks):
        seqs = [t.seq for t in tasks]
        awaits = self._req["awaits"]
        if self._k >= len(awaits):
            raise _End({"await": {"mode": mode, "seqs": seqs}})
        frozen = awaits[self._k]
        if frozen["mode"] != mode or frozen["seqs"] != seqs:
            raise _End({"error": "non-deterministic: await %d was %s %s "
                        "in the history, now %s %s" % (
                            self._k, frozen["mode"], frozen["seqs"],
                            mode, seqs)})
        self._k += 1
        return frozen["results"]

    def wait(self, task):
        """The result of task, or ActionFailed."""
        r = self._await("one", [task])[0]
        if not r["ok"]:
            raise ActionFailed(r["reason"])
        return r["value"]

    def wait_all(self, *tasks):
        """Their results, in the order given; any failure raises (the
        first to arrive)."""
        results = self._await("all", list(tasks))
        for r in results:
            if not r["ok"]:
                raise ActionFailed(r["reason"])
        by = {r["seq"]: r for r in results}
        return [by[t.seq]["value"] for t in tasks]

    def wait_any(self, *tasks):
        """(the task that finished first, its result)."""
        r = self._await("any", list(tasks))[0]
        if not r["ok"]:
            raise ActionFailed(r["reason"])
        return next(t for t in tasks if t.seq == r["seq"]), r["value"]

    def now(self):
        """The time, as on the first run that got here."""
        return self._req["times"][self._k]

    def guid(self):
        """A new id, the same on every replay."""
        self._n += 1
        key = "%s.%s.%d" % (self.id, self._req["generation"], self._n)
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    def is_replaying(self):
        """True where the code runs again what an earlier run did."""
        return self._k < self._req.get("reached", 0)

    def random(self):
        """A number in [0, 1), the same on every replay."""
        return int(self.guid()[:13], 16) / 16 ** 13

    def status(self, value):
        self._status = value

    def continue_as_new(self, input):
        raise _End({"continue": input})


def orchestration(fn):
    """fn(Context) -> output; an exception fails the orchestration."""
    def answer(req):
        ctx = Context(req)
        try:
            out = {"output": fn(ctx)}
        except _End as e:
            out = e.answer
        except ActionFailed as e:
            out = {"error": str(e)}
        out["actions"] = [{k: v for k, v in a.items() if v is not None}
                          for a in ctx._actions]
        if ctx._status is not None:
            out["status"] = ctx._status
        return out
    _serve(answer)
