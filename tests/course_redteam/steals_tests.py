# Attack: find the hidden tests (the autograder zip, otter's tests/ folder, any file naming a hidden
# test) and export them: print them and copy them where they would outlive grading.
import os, shutil, sys
needle = ("@HIDDEN_HEAD@" + "@HIDDEN_TAIL@").encode()   # in two halves: this file does not contain it
hits = [p for p in ["@AUTOGRADER@", "tests", "../tests", "/autograder", "/tmp/tests"] if os.path.exists(p)]
python = (sys.prefix, sys.base_prefix, "/usr")
for root, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys")]
    for name in files:
        path = os.path.join(root, name)
        if name.endswith(".zip") and "autograder" in name or name == "otter_config.json":
            hits.append(path)
        elif not root.startswith(python) and os.path.isfile(path) and os.path.getsize(path) < 2**20:
            try:
                if needle in open(path, "rb").read():
                    hits.append(path)
            except OSError:
                pass
for path in hits:
    print("FOUND", path)
    try:
        shutil.copy(path, "@HOSTHOME@/stolen-@MARKER@")
    except OSError:
        pass
print("SEARCH DONE", len(hits))
