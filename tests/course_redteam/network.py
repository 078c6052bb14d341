# Attack: reach the network: the internet, DNS, and the grader's own machine (a TCP port and an
# abstract unix socket the test listens on, a UDP datagram).
import socket
def attempt(what, action):
    try:
        action()
        print("CONNECTED", what)
    except OSError as err:
        print("refused", what, type(err).__name__)
def tcp(host, port):
    return lambda: socket.create_connection((host, port), timeout=2).close()
def unix():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect("\0@ABSTRACT@")
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"@MARKER@", ("127.0.0.1", @PORT@))
    s.connect(("1.1.1.1", 53))
attempt("1.1.1.1:80", tcp("1.1.1.1", 80))
attempt("dns", lambda: socket.getaddrinfo("example.com", 80))
attempt("host tcp", tcp("127.0.0.1", @PORT@))
attempt("host abstract socket", unix)
attempt("udp", udp)
