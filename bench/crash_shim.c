/* Pay Spot crash-space shim: LD_PRELOADed into the real kiosk process.
 *
 * It numbers the kiosk's durable and outward steps as they happen:
 *   fsync / fdatasync of the journal (journal.sqlite3 and its -wal / -shm files),
 *   writes to the acceptor's serial port (a pty or tty; the plain status poll is not counted),
 *   sends to the wallet (TCP sockets: write, send, sendto, sendmsg, writev).
 * With PAYKIOSK_KILL_AT=K the process SIGKILLs itself at the K-th step, before the step's
 * system call runs. PAYKIOSK_STEP_LOG names a file that gets one line per step.
 *
 * Power-cut mode (PAYKIOSK_POWER_ROOT = the data dir's real path, PAYKIOSK_POWER_SHADOW = a
 * folder outside it): the shim also keeps the data dir's *durable* state, the state a power cut
 * would leave. At start it copies the whole tree there (what was on the card before the boot);
 * after each successful fsync/fdatasync of a regular file under the root it copies the file's
 * content as it is then ("files/<key>"), after one of a directory it writes the directory's
 * listing ("dirs/<key>", the root's "dirs/root"). Every fsync under the root is a step. Writes
 * themselves are not touched: the process reads back what it wrote, mmap (SQLite's -shm) and
 * O_APPEND work as ever. bench/power_cut.py rebuilds the data dir from the durable state once
 * the process is dead: a write never fsynced is gone, a file whose directory was not fsynced
 * since it was made (or renamed or removed) is as the last directory fsync saw it. A key is
 * device, inode and birth time: ext4 hands a freed inode number to the next new file.
 *
 * Why a shim and not strace's inject=…:signal=KILL:when=K: a shim sees which file a write or an
 * fsync goes to and what a write carries (the journal, not the Kivy cache; a STACK-2, not the
 * 150 ms poll; the wallet's TCP socket, not the card emulator's UDP one), counts across all
 * threads of the process in one sequence, and does not slow every system call down by tracing.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
static char power_root[512] = "";
static char power_shadow[512] = "";
static pthread_mutex_t power_lock = PTHREAD_MUTEX_INITIALIZER;

static void baseline(void);

__attribute__((constructor)) static void start(void) {
    const char *at = getenv("PAYKIOSK_KILL_AT");
    const char *log = getenv("PAYKIOSK_STEP_LOG");
    kill_at = at ? atol(at) : 0;
    if (log) log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    const char *root = getenv("PAYKIOSK_POWER_ROOT"), *shadow = getenv("PAYKIOSK_POWER_SHADOW");
    if (root && shadow && *root == '/' && *shadow == '/') {
        snprintf(power_root, sizeof power_root, "%s", root);
        snprintf(power_shadow, sizeof power_shadow, "%s", shadow);
        baseline();
    }
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


/* ---- power-cut mode: the durable state ---- */

static int under_root(int fd) {
    if (!*power_root) return 0;
    char link[64], path[512];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = syscall(SYS_readlink, link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    size_t len = strlen(power_root);
    return !strncmp(path, power_root, len) && (path[len] == 0 || path[len] == '/');
}

static int is_root(int dirfd) {
    struct stat a, b;
    return fstat(dirfd, &a) == 0 && stat(power_root, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

/* device, inode and birth time, at ``name`` under ``dirfd`` (or the fd itself: name ""). */
static int key_of(int dirfd, const char *name, char *key, size_t size, int *is_dir) {
    struct statx sx;
    int flags = AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH);
    if (statx(dirfd, name, flags, STATX_BASIC_STATS | STATX_BTIME, &sx) != 0) return -1;
    if (!S_ISREG(sx.stx_mode) && !S_ISDIR(sx.stx_mode)) return -1;
    *is_dir = S_ISDIR(sx.stx_mode);
    snprintf(key, size, "%x.%x-%llx-%llx.%x", sx.stx_dev_major, sx.stx_dev_minor,
             (unsigned long long)sx.stx_ino, (long long)sx.stx_btime.tv_sec,
             sx.stx_btime.tv_nsec);
    return 0;
}

/* Write ``kind/name`` in the shadow whole or not at all (a kill mid-copy keeps the old one). */
static int shadow_open(const char *kind, char *tmp, size_t size) {
    snprintf(tmp, size, "%s/%s/.tmp-%ld", power_shadow, kind, (long)syscall(SYS_gettid));
    return syscall(SYS_openat, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

static void shadow_commit(const char *kind, const char *name, const char *tmp) {
    char path[700];
    snprintf(path, sizeof path, "%s/%s/%s", power_shadow, kind, name);
    rename(tmp, path);
}

static void put_all(int fd, const char *buf, size_t n) {
    while (n > 0) {
        ssize_t w = syscall(SYS_write, fd, buf, n);
        if (w <= 0) return;
        buf += w;
        n -= (size_t)w;
    }
}

static void record_file(int fd, const char *key) {
    char link[64], tmp[700], buf[65536];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    int in = syscall(SYS_openat, AT_FDCWD, link, O_RDONLY | O_CLOEXEC);
    if (in < 0) return;
    int out = shadow_open("files", tmp, sizeof tmp);
    if (out >= 0) {
        off_t at = 0;
        ssize_t n;
        while ((n = syscall(SYS_pread64, in, buf, sizeof buf, at)) > 0) {
            put_all(out, buf, (size_t)n);
            at += n;
        }
        syscall(SYS_close, out);
        shadow_commit("files", key, tmp);
    }
    syscall(SYS_close, in);
}

/* The listing a directory fsync makes durable: one "f|d <key> <name>" line per entry. */
static void record_dir(int fd, const char *key) {
    char tmp[700], line[1024];
    int dirfd = syscall(SYS_openat, fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) return;
    DIR *dir = fdopendir(dirfd);
    if (!dir) {
        syscall(SYS_close, dirfd);
        return;
    }
    int out = shadow_open("dirs", tmp, sizeof tmp);
    if (out >= 0) {
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL) {
            if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, "..")) continue;
            if (strchr(entry->d_name, '\n')) continue;
            char child[96];
            int is_dir;
            if (key_of(dirfd, entry->d_name, child, sizeof child, &is_dir) != 0) continue;
            int n = snprintf(line, sizeof line, "%c %s %s\n", is_dir ? 'd' : 'f', child,
                             entry->d_name);
            put_all(out, line, (size_t)n);
        }
        syscall(SYS_close, out);
        shadow_commit("dirs", is_root(dirfd) ? "root" : key, tmp);
    }
    closedir(dir);
}

/* After a successful fsync: what it made durable. */
static void record(int fd) {
    char key[96];
    int is_dir;
    if (key_of(fd, "", key, sizeof key, &is_dir) != 0) return;
    int saved = errno;
    pthread_mutex_lock(&power_lock);
    if (is_dir)
        record_dir(fd, key);
    else
        record_file(fd, key);
    pthread_mutex_unlock(&power_lock);
    errno = saved;
}

static void baseline_tree(int fd) {
    record(fd);
    int dirfd = syscall(SYS_openat, fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = dirfd >= 0 ? fdopendir(dirfd) : NULL;
    if (!dir) return;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, "..")) continue;
        int child = syscall(SYS_openat, dirfd, entry->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0) continue;
        struct stat st;
        if (fstat(child, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                baseline_tree(child);
            else if (S_ISREG(st.st_mode))
                record(child);
        }
        syscall(SYS_close, child);
    }
    closedir(dir);
}

/* Once per data dir (the first process to load the shim): all that is there is durable. */
static void baseline(void) {
    char path[700];
    snprintf(path, sizeof path, "%s/files", power_shadow);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/dirs", power_shadow);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/baseline", power_shadow);
    int marker = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                         0600);
    if (marker < 0) return;
    syscall(SYS_close, marker);
    int root = syscall(SYS_openat, AT_FDCWD, power_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return; /* made by the kiosk: nothing in it was durable */
    baseline_tree(root);
    syscall(SYS_close, root);
}

static int sync_step(int fd, const char *what) {
    char name[64];
    if (kind_of(fd, name, sizeof name) == JOURNAL) {
        step(what, name);
        return 1;
    }
    if (under_root(fd)) {
        char link[64], path[512];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = syscall(SYS_readlink, link, path, sizeof path - 1);
        path[n > 0 ? n : 0] = 0;
        size_t len = strlen(power_root);
        step(what, path[len] ? path + len + 1 : "data-dir");
        return 1;
    }
    return 0;
}

#define REAL(name)                                                                        \
    static __typeof__(&name) real_##name;                                                 \
    if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

int fsync(int fd) {
    REAL(fsync);
    int counted = sync_step(fd, "fsync");
    int done = real_fsync(fd);
    if (done == 0 && counted && under_root(fd)) record(fd);
    return done;
}

int fdatasync(int fd) {
    REAL(fdatasync);
    int counted = sync_step(fd, "fdatasync");
    int done = real_fdatasync(fd);
    if (done == 0 && counted && under_root(fd)) record(fd);
    return done;
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
