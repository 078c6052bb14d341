# Attack: leave processes behind that outlive grading (a detached shell sleeping, a double-forked
# daemon that keeps trying to write to the host's home folder).
import os, subprocess, sys
subprocess.Popen(["sh", "-c", "sleep 600", "@MARKER@"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time\nwhile True:\n    time.sleep(0.5)\n    try: open('@HOSTHOME@/daemon-@MARKER@', 'w')\n    except OSError: pass", "@MARKER@"])
    os._exit(0)
import torch
def lloyd_step(x, e):
    nearest = torch.cdist(x, e).argmin(dim=1)
    counts = torch.bincount(nearest, minlength=e.shape[0]).to(x.dtype)
    sums = torch.zeros_like(e).index_add_(0, nearest, x)
    return torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], e)
