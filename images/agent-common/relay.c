/*
 * The relay inside the agent container. The agent has no network, only loopback; each gate of its
 * bottle is a unix socket in a mounted folder. The relay listens on 127.0.0.1:<port> for each gate
 * and pipes every connection to that gate's socket, so ordinary clients (HTTP_PROXY, git, SDK base
 * URLs) reach the gates.
 *
 *   relay PORT=SOCKET [PORT=SOCKET ...]
 *
 * Prints `bot-bottle relay ready` once every port listens; exits 0 on SIGTERM or SIGINT, 2 on bad
 * arguments or a port it cannot listen on (nothing listens then). One process, one epoll loop,
 * no allocation per connection but the connection itself: bytes are read into one shared buffer
 * and written on at once; only what the other side did not take is kept (and that direction is not
 * read again until it has been taken).
 *
 * Half-close passes both ways (a client that ends its request still gets the whole answer). Fail
 * closed: a gate socket that cannot be reached, or an error on either side, closes both at once;
 * the relay never connects anywhere but the given sockets.
 *
 * Built in the agent images' first stage: gcc -O2 -static -s -o relay relay.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define READY_LINE "bot-bottle relay ready\n"
#define CHUNK (256 * 1024)
#define MAX_EVENTS 64

enum kind { LISTENER, ENDPOINT, SIGNALS };

struct conn;

/* One socket of a connection: side 0 the client (TCP), side 1 the gate (unix). */
struct endpoint {
  enum kind kind;
  struct conn *conn;
  int side;
};

/* What was read from one side and not yet taken by the other. */
struct pending {
  char *data;
  size_t off, len;
  int eof;  /* the source ended: shut the destination's write side once pending is written */
  int shut; /* done */
};

struct conn {
  int fd[2];
  struct endpoint ends[2];
  struct pending dir[2]; /* dir[s]: from side s to side 1 - s */
  int connecting; /* the gate's connect is under way: nothing is read until it is done */
  int closed;
};

struct listener {
  enum kind kind;
  int fd;
  struct sockaddr_un gate;
};

static char chunk[CHUNK];

static void die_usage(const char *arg) {
  fprintf(stderr,
          "relay: expected PORT=SOCKET (a port 1-65535 and an absolute socket path), got \"%s\"\n",
          arg);
  exit(2);
}

/* PORT=SOCKET: 1-5 digits, 1-65535, an absolute path that fits a unix socket address. */
static void parse_pair(const char *arg, struct listener *l, int *port) {
  const char *eq = strchr(arg, '=');
  size_t digits = eq == NULL ? 0 : (size_t)(eq - arg);
  if (digits < 1 || digits > 5 || eq[1] != '/' || strlen(eq + 1) >= sizeof(l->gate.sun_path))
    die_usage(arg);
  long value = 0;
  for (size_t i = 0; i < digits; i++) {
    if (arg[i] < '0' || arg[i] > '9') die_usage(arg);
    value = value * 10 + (arg[i] - '0');
  }
  if (value < 1 || value > 65535) die_usage(arg);
  *port = (int)value;
  memset(&l->gate, 0, sizeof(l->gate));
  l->gate.sun_family = AF_UNIX;
  strcpy(l->gate.sun_path, eq + 1);
}

static int listen_on(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, SOMAXCONN) != 0) {
    int error = errno;
    fprintf(stderr, "relay: cannot listen on 127.0.0.1:%d: %s (%s)\n", port, strerror(error),
            strerrorname_np(error) ? strerrorname_np(error) : "?");
    exit(2);
  }
  return fd;
}

/* Edge-triggered: each fd is registered once and never re-armed (fewer calls into gVisor). */
static void watch(int epoll, int fd, void *ptr) {
  struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = ptr};
  epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
}

/* Both fds closed at once (fail closed, or done); freed after this round of events. */
static void finish(struct conn *c, struct conn **dead, int *ndead) {
  if (c->closed) return;
  c->closed = 1;
  for (int s = 0; s < 2; s++) {
    close(c->fd[s]);
    free(c->dir[s].data);
  }
  dead[(*ndead)++] = c;
}

/* Writes what waits in dir[s]; 0 when all of it was taken, 1 when some waits, -1 on error. */
static int flush(struct conn *c, int s) {
  struct pending *p = &c->dir[s];
  while (p->len > 0) {
    ssize_t n = send(c->fd[1 - s], p->data + p->off, p->len, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EINTR ? 1 : -1;
    p->off += (size_t)n;
    p->len -= (size_t)n;
  }
  free(p->data);
  p->data = NULL;
  p->off = 0;
  if (p->eof && !p->shut) {
    shutdown(c->fd[1 - s], SHUT_WR);
    p->shut = 1;
  }
  return 0;
}

/*
 * Copies from side s to the other until s would block (edge-triggered: read until EAGAIN), its
 * end was passed on, or the other side stopped taking; -1 on an error of either side.
 */
static int pump(struct conn *c, int s) {
  struct pending *p = &c->dir[s];
  while (!c->connecting && !p->eof && p->len == 0) {
    ssize_t n = recv(c->fd[s], chunk, CHUNK, 0);
    if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
    if (n == 0) {
      p->eof = 1;
      return flush(c, s) < 0 ? -1 : 0;
    }
    ssize_t sent = send(c->fd[1 - s], chunk, (size_t)n, MSG_NOSIGNAL);
    if (sent < 0 && errno != EAGAIN && errno != EINTR) return -1;
    if (sent < 0) sent = 0;
    if (sent < n) {
      p->len = (size_t)(n - sent);
      p->data = malloc(p->len);
      if (p->data == NULL) return -1;
      memcpy(p->data, chunk + sent, p->len);
    }
  }
  return 0;
}

static void accept_all(int epoll, struct listener *l) {
  for (;;) {
    int client = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0) return;
    int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int gate = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct conn *c = calloc(1, sizeof(*c));
    int connected = gate < 0 ? -1 : connect(gate, (struct sockaddr *)&l->gate, sizeof(l->gate));
    /* Refused, missing, or a full backlog (EAGAIN): the client is cut at once. */
    if (c == NULL || (connected != 0 && errno != EINPROGRESS)) {
      if (gate >= 0) close(gate);
      close(client);
      free(c);
      continue;
    }
    c->fd[0] = client;
    c->fd[1] = gate;
    c->connecting = connected != 0;
    for (int s = 0; s < 2; s++) {
      c->ends[s] = (struct endpoint){.kind = ENDPOINT, .conn = c, .side = s};
      watch(epoll, c->fd[s], &c->ends[s]);
    }
  }
}

static void on_ready(struct endpoint *e, uint32_t events, struct conn **dead, int *ndead) {
  struct conn *c = e->conn;
  int s = e->side;
  if (c->closed) return;
  /* The other side is read here only when it was held back (by a pending write or the connect). */
  int held = c->dir[1 - s].len > 0;
  if (c->connecting && s == 1) {
    int error = 0;
    socklen_t size = sizeof(error);
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &error, &size);
    if (error != 0) {
      finish(c, dead, ndead);
      return;
    }
    c->connecting = 0;
    held = 1;
  }
  /* What waited for this side goes first, then the side it came from is read again. */
  int left = c->dir[1 - s].len > 0 ? flush(c, 1 - s) : 0;
  if (left < 0 || (held && left == 0 && pump(c, 1 - s) < 0) || pump(c, s) < 0 ||
      /* An error (a reset) after this side's end: nothing more will come or go. */
      ((events & EPOLLERR) && c->dir[s].eof) || (c->dir[0].shut && c->dir[1].shut))
    finish(c, dead, ndead);
}

int main(int argc, char **argv) {
  if (argc < 2) die_usage("");
  struct listener *listeners = calloc((size_t)argc - 1, sizeof(*listeners));
  int *ports = calloc((size_t)argc - 1, sizeof(*ports));
  if (listeners == NULL || ports == NULL) return 2;
  for (int i = 1; i < argc; i++) parse_pair(argv[i], &listeners[i - 1], &ports[i - 1]);

  int epoll = epoll_create1(EPOLL_CLOEXEC);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, NULL);
  int signals = signalfd(-1, &stop, SFD_CLOEXEC);
  enum kind signal_kind = SIGNALS;
  watch(epoll, signals, &signal_kind);
  for (int i = 0; i < argc - 1; i++) {
    listeners[i].kind = LISTENER;
    listeners[i].fd = listen_on(ports[i]);
    watch(epoll, listeners[i].fd, &listeners[i]);
  }
  if (write(STDOUT_FILENO, READY_LINE, sizeof(READY_LINE) - 1) < 0) return 2;

  struct epoll_event events[MAX_EVENTS];
  struct conn *dead[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(epoll, events, MAX_EVENTS, -1);
    int ndead = 0;
    for (int i = 0; i < n; i++) {
      enum kind *kind = events[i].data.ptr;
      if (*kind == SIGNALS) return 0;
      if (*kind == LISTENER) accept_all(epoll, (struct listener *)kind);
      else on_ready((struct endpoint *)kind, events[i].events, dead, &ndead);
    }
    for (int i = 0; i < ndead; i++) free(dead[i]);
  }
}
