# Attack: leave processes behind that outlive grading (a detached shell sleeping, a double-forked
# daemon that keeps trying to write to the host's home folder).
import os, subprocess, sys
subprocess.Popen(["sh", "-c", "sleep 600", "@MARKER@"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time\nwhile True:\n    time.sleep(0.5)\n    try: open('@HOSTHOME@/daemon-@MARKER@', 'w')\n    except OSError: pass", "@MARKER@"])
    os._exit(0)
def nearest_code(z, codebook):
    return ((z[:, None, :] - codebook[None]) ** 2).sum(-1).argmin(1)
