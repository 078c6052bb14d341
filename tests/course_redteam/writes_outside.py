# Attack: write files outside its folder (host home, temporary folders, the repository, the class folder).
import os
targets = ["@HOSTHOME@", "/tmp", "/var/tmp", "/dev/shm", "@REPO@", "@CLASS@", "@AUTOGRADER@", os.path.dirname("@CLASS@"),
           os.path.dirname("@GRADEBOOK@"), os.path.expanduser("~"), "/", "/etc", "/usr/local"]
for folder in targets:
    path = os.path.join(folder, "vqlab-redteam-@MARKER@")
    try:
        with open(path, "w") as f:
            f.write("pwned")
        print("WROTE", path)
    except OSError as err:
        print("refused", path, type(err).__name__)
try:
    with open("@HOSTHOME@/.bashrc", "a") as f:
        f.write("echo @MARKER@\n")
    print("WROTE .bashrc")
except OSError as err:
    print("refused .bashrc", type(err).__name__)
