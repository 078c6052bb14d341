"""The sandbox every submission runs in: bubblewrap (``bwrap``) namespaces plus resource limits.

A sandboxed process sees a read-only system (``/usr``, a few files of ``/etc``), the read-only Python
and virtual environment the grader runs in, the ``vqlab`` package and the repository's ``results/``
(measurements the notebooks load); a private, size-limited
``/tmp``, ``/dev/shm`` and home folder (its working directory) that vanish with it; its own process
namespace (it sees only its own processes; when it ends, all of them end), its own network namespace
(loopback only: no connection leaves it, no port clashes with other sandboxes), IPC and host name.
It never sees the class folder, the grade book, the autograder files or the rest of the disk.

It runs without capabilities and cannot create further user namespaces. As a normal user, ``bwrap``
makes one user namespace per sandbox. As root (containers, CI) ``bwrap`` starts privileged, the
process drops to ``nobody`` at once and a nested ``bwrap`` makes that user namespace, so a student's
process is never host root and its process count is its own.

Limits (:class:`Limits`): wall time and, watched from outside every quarter second, the memory (the
proportional set size of all its processes) and the number of processes -- a sandbox over one is killed and the reason
recorded; inside, before any student code, :func:`apply_limits` sets the kernel's own limits (CPU time,
address space, processes, file size), which hold between two looks.
"""
from __future__ import annotations

import dataclasses
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from vqlab._checks import check_float, check_int

__all__ = ["BWRAP_PACKAGE", "Limits", "apply_limits", "require_bwrap", "sandbox_command", "Sandbox", "stop_all"]

#: The Debian/Ubuntu package that provides ``bwrap``.
BWRAP_PACKAGE = "bubblewrap"
#: The sandbox's home folder and working directory.
HOME = "/home/student"
#: The unprivileged user a sandbox runs as when the grader is root.
NOBODY = 65534
# The few files of /etc a Python process reads (dynamic linker, time zone, fonts); nothing else of /etc.
_ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/fonts",
        "/etc/alternatives", "/etc/mime.types")
# Run as root inside a privileged bwrap: become nobody, then exec the next command (a nested bwrap).
_DROP = ("import os, sys; os.setgroups([]); os.setresgid({0}, {0}, {0}); os.setresuid({0}, {0}, {0}); "
         "os.execv(sys.argv[1], sys.argv[1:])").format(NOBODY)


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one sandbox may use; a submission that hits a limit gets a row that names it.

    Args:
        wall: seconds from start to end (the whole submission: notebook and checks).
        cpu: CPU seconds per process (kernel limit; the process is stopped when it runs out).
        memory: bytes of memory: the proportional set size of all the sandbox's processes together
            (watched), and the address space of each process (kernel limit).
        processes: processes at once (kernel limit, and watched: the sandbox is stopped on reaching it).
        output: bytes the sandbox may print (stdout and stderr together).
        disk: bytes each of its private folders (home, /tmp, /dev/shm) holds; also the largest file.
    """

    wall: float = 900.0
    cpu: float = 600.0
    memory: int = 4 * 2**30
    processes: int = 64
    output: int = 10 * 2**20
    disk: int = 256 * 2**20

    def __post_init__(self) -> None:
        check_float("wall", self.wall, 0, strict=True)
        check_float("cpu", self.cpu, 0, strict=True)
        check_int("memory", self.memory, 2**28)
        check_int("processes", self.processes, 4)
        check_int("output", self.output, 1)
        check_int("disk", self.disk, 2**20)

    def to_json(self) -> str:
        """The limits as JSON (how they reach :func:`apply_limits` inside the sandbox)."""
        return json.dumps(dataclasses.asdict(self))


def apply_limits(limits: dict) -> None:
    """Set the kernel's limits on this process and its children (first thing in the sandbox)."""
    cpu = int(limits["cpu"]) + 1
    for kind, value in ((resource.RLIMIT_CPU, (cpu, cpu + 2)), (resource.RLIMIT_AS, (limits["memory"],) * 2),
                        (resource.RLIMIT_NPROC, (limits["processes"],) * 2), (resource.RLIMIT_CORE, (0, 0)),
                        (resource.RLIMIT_FSIZE, (limits["disk"],) * 2)):
        resource.setrlimit(kind, value)


def require_bwrap() -> str:
    """The path of ``bwrap``; RuntimeError naming the package if it is missing or cannot make a sandbox."""
    path = shutil.which("bwrap")
    if path is None:
        raise RuntimeError(f"grading runs every submission in a bubblewrap sandbox and bwrap is not installed: "
                           f"install the package {BWRAP_PACKAGE} (Debian/Ubuntu: sudo apt-get install {BWRAP_PACKAGE})")
    probe = subprocess.run(sandbox_command(["true"], Limits(), bwrap=path), capture_output=True, text=True)
    if probe.returncode != 0:
        raise RuntimeError(f"bwrap ({path}, package {BWRAP_PACKAGE}) cannot make a sandbox here: "
                           f"{probe.stderr.strip()}. It needs unprivileged user namespaces (on Ubuntu 24.04: "
                           "sysctl kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile for bwrap)")
    return path


def python_trees() -> list[str]:
    """The folders a sandbox sees read-only: its Python's installation, the virtual environment, the vqlab
    package, and the repository's ``results/`` beside it where there is one (measurements a notebook loads
    instead of recomputing them, e.g. notebook 02's sweep)."""
    import vqlab

    package = Path(vqlab.__file__).parent
    folders = [sys.base_prefix, sys.prefix, package] + [r for r in [package.parent / "results"] if r.is_dir()]
    trees = {os.path.realpath(p) for p in folders}
    return sorted(t for t in trees if t != "/usr" and not t.startswith("/usr/"))


def _mount_point(path: str) -> list[str]:
    """bwrap arguments creating every missing parent of ``path`` as a plain 0755 folder."""
    parts = Path(path).parents
    return [arg for parent in reversed(list(parts)[:-1]) for arg in ("--perms", "0755", "--dir", str(parent))]


def sandbox_command(argv: list[str], limits: Limits, *, files: dict[str, int] | None = None,
                    bwrap: str | None = None) -> list[str]:
    """The command line running ``argv`` in a new sandbox.

    Args:
        argv: the command inside (``sys.executable`` and the other paths of :func:`python_trees` exist there).
        limits: its folders' sizes come from ``limits.disk`` (the other limits are applied by the caller).
        files: ``{path inside: open file descriptor}``: files copied into the sandbox's home at start.
        bwrap: the bwrap binary (default: found on PATH).
    """
    bwrap = bwrap or shutil.which("bwrap") or "bwrap"
    root = os.geteuid() == 0
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox", "--clearenv"]
    args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"] if root else ["--unshare-user", "--disable-userns"]
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in _ETC:
        args += ["--ro-bind-try", name, name]
    binaries = [os.path.realpath(bwrap)] if root and not os.path.realpath(bwrap).startswith("/usr/") else []
    for tree in python_trees() + binaries:
        args += _mount_point(tree) + ["--ro-bind", tree, tree]
    size = str(limits.disk)
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", size, "--tmpfs", "/tmp",
             "--perms", "1777", "--size", size, "--tmpfs", "/dev/shm"]
    args += _mount_point(HOME) + ["--perms", "1777", "--size", size, "--tmpfs", HOME]
    for dest, fd in (files or {}).items():
        args += ["--file", str(fd), dest]
    env = {"HOME": HOME, "USER": "student", "LOGNAME": "student", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
           "PATH": f"{sys.prefix}/bin:/usr/local/bin:/usr/bin:/bin", "MPLBACKEND": "agg", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "VQLAB_NUM_THREADS": "1", "JUPYTER_PLATFORM_DIRS": "1"}
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--chdir", HOME, "--remount-ro", "/", "--"]
    if root:  # become nobody, then a nested unprivileged bwrap gives it a user namespace of its own
        args += [sys.executable, "-I", "-S", "-c", _DROP, os.path.realpath(bwrap), "--unshare-user",
                 "--disable-userns", "--dev-bind", "/", "/", "--die-with-parent", "--"]
    return args + argv


class Sandbox:
    """One sandboxed process, started at once and watched against ``limits`` until :meth:`wait`.

    ``stdin`` is written to the process and closed; its stdout is kept in ``out_tail`` (the last 64 kB)
    unless ``events`` (a callback per stdout line) is given; stderr always goes to ``out_tail``. A limit
    hit stops the process and sets ``reason`` (the first one wins).
    """

    TAIL = 64 * 1024

    def __init__(self, argv: list[str], limits: Limits, *, files: dict[str, int] | None = None,
                 pass_fds: tuple[int, ...] = (), stdin: bytes = b"", events: Any = None):
        self.limits, self.reason, self.printed = limits, None, 0
        self.peak_memory, self.cpu_seconds = 0, 0.0   # as last seen from outside
        self.out_tail = bytearray()
        self._lock = threading.Lock()
        fds = tuple(pass_fds) + tuple((files or {}).values())
        self.process = subprocess.Popen(sandbox_command(argv, limits, files=files), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=fds,
                                        start_new_session=True)
        self._readers = [threading.Thread(target=self._read, args=(self.process.stderr, None), daemon=True),
                         threading.Thread(target=self._read, args=(self.process.stdout, events), daemon=True)]
        for reader in self._readers:
            reader.start()
        threading.Thread(target=self._feed, args=(stdin,), daemon=True).start()
        _WATCH.add(self)

    def _feed(self, data: bytes) -> None:
        try:
            self.process.stdin.write(data)
            self.process.stdin.close()
        except OSError:
            pass

    def _read(self, stream: IO[bytes], events: Any) -> None:
        if events is not None:  # JSON lines from the checker (our own code)
            for line in iter(lambda: stream.readline(2**24), b""):
                events(line)
            return
        for chunk in iter(lambda: stream.read1(65536), b""):
            with self._lock:
                self.printed += len(chunk)
                self.out_tail += chunk
                del self.out_tail[:-self.TAIL]
                over = self.printed > self.limits.output
            if over:
                self.stop(f"output limit ({_size(self.limits.output)}) reached")

    def stop(self, reason: str | None = None) -> None:
        """Kill the sandbox (every process in it); ``reason`` is recorded if it is the first."""
        with self._lock:
            if reason and self.reason is None:
                self.reason = reason
            if self.process.returncode is None:  # not reaped yet: the process group is still this sandbox's
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def wait(self, deadline: float) -> int:
        """Wait until the process ends, killing it at ``deadline`` (a ``time.monotonic()`` value); its exit
        status (bwrap's: the command's, or 128 + the signal that ended it)."""
        while True:
            with self._lock:  # reaped only here, so stop() never signals a recycled process id
                if self.process.poll() is not None:
                    break
            if time.monotonic() >= deadline:
                self.stop(f"timed out after {self.limits.wall:g} s")
            time.sleep(0.05)
        _WATCH.remove(self)
        for reader in self._readers:
            reader.join(timeout=5)
        return self.process.returncode

    def _watch(self, children: dict[int, list[int]], usage: dict[int, tuple[int, float, str]]) -> None:
        """One look from outside at the sandbox's process tree: memory, CPU time, processes."""
        tree, stack = [], [self.process.pid]
        while stack:
            pid = stack.pop()
            tree.append(pid)
            stack += children.get(pid, [])
        seen = {pid: usage[pid] for pid in tree if pid in usage}
        memory = sum(_proportional_memory(pid, rss) for pid, (rss, _, _) in seen.items())
        self.peak_memory = max(self.peak_memory, memory)
        self.cpu_seconds = max(self.cpu_seconds, sum(cpu for _, cpu, _ in seen.values()))
        if memory > self.limits.memory:
            self.stop(f"memory limit ({_size(self.limits.memory)}) reached")
        if sum(name != "bwrap" for _, _, name in seen.values()) >= self.limits.processes:
            self.stop(f"process limit ({self.limits.processes}) reached")


def _proportional_memory(pid: int, rss: int) -> int:
    """A process's proportional set size (shared pages split between the processes sharing them, so a
    forked child is not counted twice); its resident size where that cannot be read."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return rss


def _size(n: int) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"


class _Watcher:
    """One thread that looks at every running sandbox's process tree four times a second."""

    PERIOD = 0.25

    def __init__(self) -> None:
        self._sandboxes: set[Sandbox] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, sandbox: Sandbox) -> None:
        with self._lock:
            self._sandboxes.add(sandbox)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, daemon=True, name="vqlab-sandbox-watch")
                self._thread.start()

    def remove(self, sandbox: Sandbox) -> None:
        with self._lock:
            self._sandboxes.discard(sandbox)

    def stop_all(self, reason: str) -> None:
        with self._lock:
            active = list(self._sandboxes)
        for sandbox in active:
            sandbox.stop(reason)

    def _loop(self) -> None:
        page, tick = os.sysconf("SC_PAGE_SIZE"), os.sysconf("SC_CLK_TCK")
        while True:
            time.sleep(self.PERIOD)
            with self._lock:
                active = list(self._sandboxes)
            if not active:
                continue
            children: dict[int, list[int]] = {}
            usage: dict[int, tuple[int, float, str]] = {}   # pid -> (resident bytes, CPU seconds, name)
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry.name}/stat", "rb") as f:
                        head, _, rest = f.read().rpartition(b")")
                except OSError:
                    continue
                fields, pid = rest.split(), int(entry.name)
                children.setdefault(int(fields[1]), []).append(pid)
                cpu = sum(int(t) for t in fields[11:15]) / tick   # utime, stime, and of waited children
                usage[pid] = (int(fields[21]) * page, cpu, head.partition(b"(")[2].decode(errors="replace"))
            for sandbox in active:
                sandbox._watch(children, usage)


_WATCH = _Watcher()


def stop_all(reason: str) -> None:
    """Kill every running sandbox (the grader is stopping)."""
    _WATCH.stop_all(reason)
