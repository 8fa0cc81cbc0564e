/* board.c: POSIX host port of ert_board.h, so the same firmware (firmware/app/main.c and
 * firmware/core) runs as a host process, embedrt-fw-host. Console: stdout, line-buffered
 * ("\r" dropped). Clock: CLOCK_MONOTONIC in ms. Exit: exit(code). The link transport comes
 * from the environment variable ERT_FW_LINK:
 *   pty               a new pseudo-terminal in raw mode; prints "link: pty /dev/pts/N"
 *                     first, so a test (or embedrtd's serial transport) can open it
 *   unix:PATH         connect to a listening Unix stream socket
 *   unix-listen:PATH  listen on PATH and accept one connection (like QEMU's
 *                     -serial unix:PATH,server=on,wait=on)
 * The link fd is non-blocking: ert_board_getc never blocks. Missing or bad ERT_FW_LINK:
 * one line on stderr, exit 64 (EX_USAGE). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* posix_openpt, ptsname, cfmakeraw */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ert_board.h"

const char ert_board_name[] = "posix";

#define ERT_HOST_EXIT_USAGE 64
#define ERT_HOST_EXIT_LINK 70 /* the transport could not be set up (EX_SOFTWARE) */
#define ERT_HOST_WRITE_STALL_MS 1000

static int link_fd = -1;
static int pty_slave_fd = -1; /* held open so the master never sees a hangup */
static uint64_t start_ms;
static uint8_t rx_buf[256];
static size_t rx_len, rx_pos;
static int link_gone; /* EOF or a hard error: the peer is not coming back on this fd */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void die(int code, const char *what, const char *detail)
{
    fprintf(stderr, "embedrt-fw-host: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(code);
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        die(ERT_HOST_EXIT_LINK, "ERT_FW_LINK: fcntl(O_NONBLOCK) failed", strerror(errno));
}

static void open_pty(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
        die(ERT_HOST_EXIT_LINK, "ERT_FW_LINK=pty: posix_openpt failed", strerror(errno));
    const char *name = ptsname(m);
    if (!name)
        die(ERT_HOST_EXIT_LINK, "ERT_FW_LINK=pty: ptsname failed", strerror(errno));
    pty_slave_fd = open(name, O_RDWR | O_NOCTTY);
    if (pty_slave_fd < 0)
        die(ERT_HOST_EXIT_LINK, "ERT_FW_LINK=pty: cannot open the slave side", strerror(errno));
    struct termios t;
    if (tcgetattr(pty_slave_fd, &t) < 0)
        die(ERT_HOST_EXIT_LINK, "ERT_FW_LINK=pty: tcgetattr failed", strerror(errno));
    cfmakeraw(&t); /* 8 bits, no echo, no CR/LF translation, no signals */
    if (tcsetattr(pty_slave_fd, TCSANOW, &t) < 0)
        die(ERT_HOST_EXIT_LINK, "ERT_FW_LINK=pty: tcsetattr failed", strerror(errno));
    link_fd = m;
    printf("link: pty %s\n", name);
    fflush(stdout);
}

static void unix_addr(struct sockaddr_un *a, const char *path, const char *var)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (path[0] == '\0' || strlen(path) >= sizeof a->sun_path)
        die(ERT_HOST_EXIT_USAGE, var, "socket path is empty or longer than 107 bytes");
    memcpy(a->sun_path, path, strlen(path) + 1);
}

static void open_unix(const char *path)
{
    struct sockaddr_un a;
    unix_addr(&a, path, "ERT_FW_LINK=unix:PATH");
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        die(ERT_HOST_EXIT_LINK, "ERT_FW_LINK=unix: cannot connect", strerror(errno));
    link_fd = fd;
}

static void open_unix_listen(const char *path)
{
    struct sockaddr_un a;
    unix_addr(&a, path, "ERT_FW_LINK=unix-listen:PATH");
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* a stale socket from an earlier run */
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 1) < 0)
        die(ERT_HOST_EXIT_LINK, "ERT_FW_LINK=unix-listen: cannot listen", strerror(errno));
    printf("link: waiting on unix:%s\n", path);
    fflush(stdout);
    int fd;
    do
        fd = accept(ls, NULL, NULL);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        die(ERT_HOST_EXIT_LINK, "ERT_FW_LINK=unix-listen: accept failed", strerror(errno));
    close(ls);
    unlink(path);
    link_fd = fd;
}

void ert_board_init(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN); /* a vanished peer shows up as EPIPE, not a kill */
    const char *spec = getenv("ERT_FW_LINK");
    if (!spec || !spec[0])
        die(ERT_HOST_EXIT_USAGE, "ERT_FW_LINK is not set; use pty, unix:PATH or unix-listen:PATH", NULL);
    if (strcmp(spec, "pty") == 0)
        open_pty();
    else if (strncmp(spec, "unix:", 5) == 0)
        open_unix(spec + 5);
    else if (strncmp(spec, "unix-listen:", 12) == 0)
        open_unix_listen(spec + 12);
    else
        die(ERT_HOST_EXIT_USAGE, "ERT_FW_LINK must be pty, unix:PATH or unix-listen:PATH, got", spec);
    set_nonblock(link_fd);
    start_ms = mono_ms();
}

static void console_write(const uint8_t *data, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (data[i] != '\r')
            putchar(data[i]);
}

/* Writes everything unless the peer stalls for ERT_HOST_WRITE_STALL_MS or is gone: a
 * serial line loses bytes then too, and the link core retransmits what matters. */
static void link_write(const uint8_t *data, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(link_fd, data + done, n - done);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {link_fd, POLLOUT, 0};
            if (poll(&p, 1, ERT_HOST_WRITE_STALL_MS) > 0)
                continue;
        }
        return; /* stalled, EPIPE, EIO: drop the rest */
    }
}

void ert_board_write(ert_board_port port, const uint8_t *data, size_t n)
{
    if (port == ERT_BOARD_CONSOLE)
        console_write(data, n);
    else
        link_write(data, n);
}

void ert_board_puts(ert_board_port port, const char *s)
{
    ert_board_write(port, (const uint8_t *)s, strlen(s));
}

void ert_board_put_u32(ert_board_port port, uint32_t v)
{
    char d[11];
    int n = snprintf(d, sizeof d, "%u", (unsigned)v);
    ert_board_write(port, (const uint8_t *)d, (size_t)n);
}

int ert_board_getc(ert_board_port port)
{
    if (port != ERT_BOARD_LINK)
        return -1;
    if (rx_pos == rx_len) {
        ssize_t r = read(link_fd, rx_buf, sizeof rx_buf);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            link_gone = 1; /* the link core sees silence and times out */
        if (r <= 0)
            return -1;
        rx_len = (size_t)r;
        rx_pos = 0;
    }
    return rx_buf[rx_pos++];
}

void ert_board_idle(void)
{
    /* Sleep until the link has a byte or a millisecond passes: no busy loop on the host. A
     * vanished peer would make poll return at once forever, so just sleep then. */
    struct timespec ms = {0, 1000000};
    struct pollfd p = {link_fd, POLLIN, 0};
    if (link_gone)
        nanosleep(&ms, NULL);
    else if (poll(&p, 1, 1) > 0 && !(p.revents & POLLIN))
        nanosleep(&ms, NULL);
}

uint32_t ert_board_millis(void)
{
    return (uint32_t)(mono_ms() - start_ms);
}

void ert_board_exit(int code)
{
    /* Closing a pty master discards what the peer has not read yet (the last ack, say):
     * give it up to 500 ms to read, as the bytes would still be on a real line. The kernel
     * moves written bytes to the slave's queue asynchronously, so an empty queue counts
     * only after 20 ms. */
    for (int i = 0; i < 50 && pty_slave_fd >= 0; i++) {
        int queued = 0;
        if (ioctl(pty_slave_fd, FIONREAD, &queued) < 0 || (queued == 0 && i >= 2))
            break;
        struct timespec ms10 = {0, 10000000};
        nanosleep(&ms10, NULL);
    }
    fflush(stdout);
    exit(code);
}
