/* Pay Spot crash-space shim: LD_PRELOADed into the real kiosk process.
 *
 * It numbers the kiosk's durable and outward steps as they happen:
 *   fsync / fdatasync of the journal (journal.sqlite3 and its -wal / -shm files),
 *   writes to the acceptor's serial port (a pty or tty; the plain status poll is not counted),
 *   sends to the wallet (TCP sockets: write, send, sendto, sendmsg, writev).
 * With PAYKIOSK_KILL_AT=K the process SIGKILLs itself at the K-th step, before the step's
 * system call runs. PAYKIOSK_STEP_LOG names a file that gets one line per step.
 *
 * Why a shim and not strace's inject=…:signal=KILL:when=K: a shim sees which file a write or an
 * fsync goes to and what a write carries (the journal, not the Kivy cache; a STACK-2, not the
 * 150 ms poll; the wallet's TCP socket, not the card emulator's UDP one), counts across all
 * threads of the process in one sequence, and does not slow every system call down by tracing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

enum kind { OTHER, JOURNAL, PORT, WALLET };

static long kill_at = 0;
static int log_fd = -1;
static long steps = 0;

__attribute__((constructor)) static void start(void) {
    const char *at = getenv("PAYKIOSK_KILL_AT");
    const char *log = getenv("PAYKIOSK_STEP_LOG");
    kill_at = at ? atol(at) : 0;
    if (log) log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    /* LD_PRELOAD stays set: a child of the kiosk (ctypes runs gcc) loads the shim too, but
     * counts only its own steps: it writes no journal, port or wallet socket. */
}

static enum kind kind_of(int fd, char *name, size_t size) {
    char link[64], path[512];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = syscall(SYS_readlink, link, path, sizeof path - 1);
    if (n > 0) {
        path[n] = 0;
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (strstr(base, "journal.sqlite3")) {
            snprintf(name, size, "%.40s", base);
            return JOURNAL;
        }
        if (!strncmp(path, "/dev/pts/", 9) || !strncmp(path, "/dev/tty", 8)) return PORT;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) {
        int type = 0, domain = 0;
        socklen_t len = sizeof type;
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
        len = sizeof domain;
        getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
        if (type == SOCK_STREAM && (domain == AF_INET || domain == AF_INET6)) return WALLET;
    }
    return OTHER;
}

static void step(const char *what, const char *detail) {
    long k = __atomic_add_fetch(&steps, 1, __ATOMIC_SEQ_CST);
    if (log_fd >= 0) {
        char line[160];
        int n = snprintf(line, sizeof line, "%ld %s %s\n", k, what, detail);
        syscall(SYS_write, log_fd, line, n);
    }
    if (k == kill_at) {
        if (log_fd >= 0) syscall(SYS_write, log_fd, "KILLED\n", 7);
        kill(getpid(), SIGKILL);
        for (;;) pause();
    }
}

static void outward(int fd, const void *buf, size_t count) {
    char name[64] = "";
    switch (kind_of(fd, name, sizeof name)) {
    case PORT: {
        const unsigned char *b = buf;
        if (count >= 3 && b[0] == 0xFC && b[2] == 0x11) return; /* status request: the poll */
        char cmd[8];
        snprintf(cmd, sizeof cmd, "%02X", count >= 3 ? b[2] : 0);
        step("port", cmd);
        break;
    }
    case WALLET:
        step("wallet", "send");
        break;
    default:
        break;
    }
}

#define REAL(name)                                                                        \
    static __typeof__(&name) real_##name;                                                 \
    if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

int fsync(int fd) {
    REAL(fsync);
    char name[64];
    if (kind_of(fd, name, sizeof name) == JOURNAL) step("fsync", name);
    return real_fsync(fd);
}

int fdatasync(int fd) {
    REAL(fdatasync);
    char name[64];
    if (kind_of(fd, name, sizeof name) == JOURNAL) step("fdatasync", name);
    return real_fdatasync(fd);
}

ssize_t write(int fd, const void *buf, size_t count) {
    REAL(write);
    outward(fd, buf, count);
    return real_write(fd, buf, count);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    REAL(writev);
    if (iovcnt > 0) outward(fd, iov[0].iov_base, iov[0].iov_len);
    return real_writev(fd, iov, iovcnt);
}

ssize_t send(int fd, const void *buf, size_t len, int flags) {
    REAL(send);
    outward(fd, buf, len);
    return real_send(fd, buf, len, flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
               socklen_t tolen) {
    REAL(sendto);
    outward(fd, buf, len);
    return real_sendto(fd, buf, len, flags, to, tolen);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
    REAL(sendmsg);
    if (msg && msg->msg_iovlen > 0) outward(fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len);
    return real_sendmsg(fd, msg, flags);
}
