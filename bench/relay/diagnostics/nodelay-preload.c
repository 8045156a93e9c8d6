// Diagnostic only, never for production: an LD_PRELOAD shim that sets TCP_NODELAY on every socket
// the process accepts. secms-server does not set it (as of this benchmark), so Nagle's algorithm
// holds small relay writes back until the previous segment is acknowledged, and the receiver's
// delayed ACK turns that into ~40 ms stalls. Running the benchmark with this shim shows what the
// server would do with the option set; bench/README.md has both sets of figures.
//
//   gcc -shared -fPIC -O2 -o /tmp/nodelay-preload.so bench/relay/diagnostics/nodelay-preload.c -ldl
//   node bench/relay/run.mjs --server-env LD_PRELOAD=/tmp/nodelay-preload.so
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void set_nodelay(int fd) {
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on non-TCP fds
}

int accept(int fd, struct sockaddr* addr, socklen_t* len) {
    static int (*real)(int, struct sockaddr*, socklen_t*);
    if (!real) real = (int (*)(int, struct sockaddr*, socklen_t*))dlsym(RTLD_NEXT, "accept");
    int client = real(fd, addr, len);
    set_nodelay(client);
    return client;
}

int accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags) {
    static int (*real)(int, struct sockaddr*, socklen_t*, int);
    if (!real) real = (int (*)(int, struct sockaddr*, socklen_t*, int))dlsym(RTLD_NEXT, "accept4");
    int client = real(fd, addr, len, flags);
    set_nodelay(client);
    return client;
}
