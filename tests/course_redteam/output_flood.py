# Attack: flood the grader with output.
line = "@MARKER@ " * 1000
while True:
    print(line)
