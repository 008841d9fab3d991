"""dphp.py - write dphp handlers in Python, standard library only.

The same protocol as dphp.sh (see dphp-handler(5)): one request per
line on stdin, one answer per line on stdout, so a handler works
one-shot and as a co-process (dphp-replay -k).

    import dphp
    def counter(req):                       # an entity
        n = (req["state"] or 0) + (req["input"] or 1)
        return {"state": n, "result": n}
    dphp.entity(counter)

Activities return their result; orchestrations get a Context.  An
activity may run more than once (at least once, until its outcome is
committed): req["key"] is the same on every run of one call, for its
side effect to happen once, and req["attempt"] its retry's number.
Raise Refuse (entities, activities) or any exception to fail.

An orchestration run as a co-process keeps each instance waiting in a
thread of its own between requests and says so ("sticky"), so that the
next request carries only the await points passed since; DPHP_STICKY=0
turns that off (every request then replays the whole history).
"""
import collections
import hashlib
import json
import os
import sys
import _thread

_KEPT_MAX = 1000        # instances kept waiting; then the oldest is let go


class Refuse(Exception):
    """Refuse an operation, or fail an activity, with this reason."""


class ActionFailed(Exception):
    """An awaited action failed; str() is its reason."""


class _End(Exception):
    def __init__(self, answer):
        super().__init__()
        self.answer = answer


class _LetGo(BaseException):
    """Unwinds the thread of a kept instance that is let go."""


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
        self._kept = None
        self._actions = []
        self._k = 0
        self._n = 0
        self._status = None

    def _act(self, action):
        self._actions.append(action)
        return Task(len(self._actions) - 1)

    def activity(self, name, input=None, retry=None):
        """retry: {"attempts", "first", "backoff", "max", "nonretryable"}
        (dphp-handler(5)); an exception's name is its class's."""
        return self._act({"kind": "activity", "name": name, "input": input,
                          "retry": retry})

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
        while self._k >= len(awaits) and self._kept is not None:
            self._kept.wait({"await": {"mode": mode, "seqs": seqs}})
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


def _run(fn, ctx):
    """Run fn until it waits or ends: the answer, but for its actions."""
    try:
        return {"output": fn(ctx)}
    except _End as e:
        return e.answer
    except ActionFailed as e:
        return {"error": str(e)}


def _answer(ctx, out, since):
    """out with the actions issued from since on, and the status."""
    out["actions"] = [{k: v for k, v in a.items() if v is not None}
                      for a in ctx._actions[since:]]
    if ctx._status is not None:
        out["status"] = ctx._status
    return out


class _Handoff:
    """One value passed between two threads, each waiting in turn: a
    bare lock, the cheapest wait the standard library has (a third less
    than queue.Queue's per request)."""

    def __init__(self):
        self.value = None
        self.full = _thread.allocate_lock()
        self.full.acquire()

    def put(self, value):
        self.value = value
        self.full.release()

    def get(self):
        self.full.acquire()
        return self.value


class _Kept:
    """An instance run in a thread that waits at each await for the
    request that brings its results."""

    def __init__(self, fn, req):
        self.ctx = Context(req)
        self.ctx._kept = self
        self.sent = 0
        self.more = _Handoff()          # resume requests; None lets go
        self.out = _Handoff()           # answers, or an exception
        _thread.start_new_thread(self._main, (fn,))

    def _main(self, fn):
        try:
            self.out.put(_run(fn, self.ctx))
        except _LetGo:
            pass
        except Exception as e:  # answered as the plain run would
            self.out.put(e)

    def wait(self, out):
        """In the thread: answer out, then take the next resume."""
        self.out.put(out)
        req = self.more.get()
        if req is None:
            raise _LetGo()
        self.ctx._req["awaits"].extend(req["awaits"])
        self.ctx._req["times"].extend(req["times"])
        self.ctx._req["reached"] = req.get("reached", 0)

    def answer(self, req=None):
        """Send the thread req (None: it has just started); its answer."""
        if req is not None:
            self.more.put(req)
        out = self.out.get()
        if isinstance(out, Exception):
            raise out
        out = _answer(self.ctx, out, self.sent)
        self.sent = len(self.ctx._actions)
        return out


def _sticky(fn):
    kept = collections.OrderedDict()

    def answer(req):
        k = kept.pop(req["id"], None)
        if "resume" in req:
            if (k is None or k.ctx._req["generation"] != req["generation"]
                    or len(k.ctx._req["awaits"]) != req["resume"]):
                if k is not None:
                    k.more.put(None)
                return {"evicted": True}
            out = k.answer(req)
        else:
            if k is not None:       # the whole history: start over
                k.more.put(None)
            k = _Kept(fn, req)
            out = k.answer()
        if "await" in out:
            out["sticky"] = True
            kept[req["id"]] = k
            while len(kept) > _KEPT_MAX:
                kept.popitem(last=False)[1].more.put(None)
        return out
    return answer


def orchestration(fn):
    """fn(Context) -> output; an exception fails the orchestration."""
    def answer(req):
        ctx = Context(req)
        return _answer(ctx, _run(fn, ctx), 0)
    _serve(_sticky(fn) if os.environ.get("DPHP_STICKY") != "0" else answer)
