/*
 * grpcload: a closed-loop load generator for gRPC unary calls that checks the
 * grpc-status of every reply.
 *
 * Why it exists: h2load counts HTTP 200 as success, but a gRPC error is an HTTP 200
 * with a non-zero grpc-status trailer, and a Python client spends about as much CPU
 * per call as the grpcio server it measures (see bench/README.md). This program keeps
 * a fixed number of calls in flight over a few HTTP/2 connections (libnghttp2, one
 * thread, poll), sends the same prebuilt request each time, and reports requests
 * sent, OK, the count of every other status, req/s and latency percentiles. It exits
 * 1 when any reply has a status outside --expect (default: 0, OK) or no status at all.
 *
 * Built by bench/grpcload.py (cc -O2 grpcload.c -lnghttp2); run it through that
 * wrapper, which also encodes the request message.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EXTRA_HEADERS 16
#define FIXED_HEADERS 6
#define NSTATUS 17 /* gRPC status codes 0 (OK) .. 16 (UNAUTHENTICATED) */
#define MAX_CONNECTIONS 256

static const char *STATUS_NAMES[NSTATUS] = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED"};

typedef struct {
    const char *host;
    const char *port;
    const char *path;
    const char *body_file;
    int connections;
    int concurrency;
    double duration;
    long requests;
    double drain_timeout;
    int json;
    unsigned expected; /* bit i set: status i is expected */
    char *extra_names[MAX_EXTRA_HEADERS];
    char *extra_values[MAX_EXTRA_HEADERS];
    int nextra;
} options;

typedef struct {
    long sent, completed, ok, no_status, http_errors, resets, lost, unexpected;
    long by_status[NSTATUS];
    long other_status;
    uint32_t *latency_us;
    size_t nlatency, latency_cap;
    double first_send, last_done;
} stats;

#define OUTBUF_SIZE 65536

typedef struct {
    int fd;
    nghttp2_session *session;
    int inflight;
    int dead;
    size_t outlen; /* frames are gathered here and written with one send() */
    uint8_t out[OUTBUF_SIZE];
} conn;

typedef struct {
    double start;
    int grpc_status;
    int http_status;
    size_t offset;
} call;

static options opt;
static stats st;
static uint8_t *frame; /* 5-byte gRPC prefix + message */
static size_t frame_len;
static nghttp2_nv headers[FIXED_HEADERS + MAX_EXTRA_HEADERS];
static size_t nheaders;
static char authority[512];
static volatile sig_atomic_t interrupted;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "grpcload: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(2);
}

static void record_latency(double seconds) {
    if (st.nlatency == st.latency_cap) {
        st.latency_cap = st.latency_cap ? st.latency_cap * 2 : 1 << 16;
        st.latency_us = realloc(st.latency_us, st.latency_cap * sizeof(uint32_t));
        if (!st.latency_us) die("out of memory");
    }
    double us = seconds * 1e6;
    st.latency_us[st.nlatency++] = us > 4e9 ? 4000000000u : (uint32_t)us;
}

static int status_expected(int status) {
    return status >= 0 && status < 32 && (opt.expected & (1u << status));
}

/* Files one finished call under its status; a call with no grpc-status is unexpected. */
static void classify(const call *c, uint32_t error_code) {
    if (error_code != NGHTTP2_NO_ERROR) st.resets++;
    if (c->http_status != 200) st.http_errors++;
    if (c->grpc_status < 0) {
        st.no_status++;
        st.unexpected++;
        return;
    }
    if (c->grpc_status < NSTATUS) st.by_status[c->grpc_status]++;
    else st.other_status++;
    if (c->grpc_status == 0) st.ok++;
    if (!status_expected(c->grpc_status)) st.unexpected++;
}

/* Writes the gathered frames; returns -1 on a broken connection, 0 otherwise. */
static int flush_out(conn *c) {
    size_t done = 0;
    while (done < c->outlen) {
        ssize_t n = send(c->fd, c->out + done, c->outlen - done, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n < 0) return -1;
        done += (size_t)n;
    }
    memmove(c->out, c->out + done, c->outlen - done);
    c->outlen -= done;
    return 0;
}

static ssize_t send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud) {
    (void)s, (void)flags;
    conn *c = ud;
    size_t room = OUTBUF_SIZE - c->outlen;
    if (room == 0) return NGHTTP2_ERR_WOULDBLOCK;
    if (len > room) len = room;
    memcpy(c->out + c->outlen, data, len);
    c->outlen += len;
    return (ssize_t)len;
}

static ssize_t recv_cb(nghttp2_session *s, uint8_t *buf, size_t len, int flags, void *ud) {
    (void)s, (void)flags;
    ssize_t n = recv(((conn *)ud)->fd, buf, len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return NGHTTP2_ERR_WOULDBLOCK;
    if (n == 0) return NGHTTP2_ERR_EOF;
    return n < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : n;
}

static int header_cb(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *ud) {
    (void)flags, (void)ud, (void)valuelen;
    call *c = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    if (!c) return 0;
    if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0) c->grpc_status = atoi((const char *)value);
    else if (namelen == 7 && memcmp(name, ":status", 7) == 0) c->http_status = atoi((const char *)value);
    return 0;
}

static int close_cb(nghttp2_session *s, int32_t stream_id, uint32_t error_code, void *ud) {
    call *c = nghttp2_session_get_stream_user_data(s, stream_id);
    if (!c) return 0;
    double t = now_s();
    record_latency(t - c->start);
    classify(c, error_code);
    st.completed++;
    st.last_done = t;
    ((conn *)ud)->inflight--;
    free(c);
    return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *ud) {
    (void)s, (void)id, (void)ud;
    call *c = src->ptr;
    size_t n = frame_len - c->offset;
    if (n > len) n = len;
    memcpy(buf, frame + c->offset, n);
    c->offset += n;
    if (c->offset == frame_len) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static nghttp2_nv make_nv(const char *name, const char *value) {
    nghttp2_nv nv = {(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
                     NGHTTP2_NV_FLAG_NONE};
    return nv;
}

static void build_headers(void) {
    snprintf(authority, sizeof authority, "%s:%s", opt.host, opt.port);
    headers[0] = make_nv(":method", "POST");
    headers[1] = make_nv(":scheme", "http");
    headers[2] = make_nv(":path", opt.path);
    headers[3] = make_nv(":authority", authority);
    headers[4] = make_nv("content-type", "application/grpc");
    headers[5] = make_nv("te", "trailers");
    nheaders = FIXED_HEADERS;
    for (int i = 0; i < opt.nextra; i++) headers[nheaders++] = make_nv(opt.extra_names[i], opt.extra_values[i]);
}

static void load_body(void) {
    FILE *f = fopen(opt.body_file, "rb");
    if (!f) die(opt.body_file);
    if (fseek(f, 0, SEEK_END) != 0) die("seek");
    long size = ftell(f);
    rewind(f);
    frame_len = 5 + (size_t)size;
    frame = malloc(frame_len);
    if (!frame) die("out of memory");
    frame[0] = 0;
    frame[1] = (uint8_t)(size >> 24), frame[2] = (uint8_t)(size >> 16);
    frame[3] = (uint8_t)(size >> 8), frame[4] = (uint8_t)size;
    if (size && fread(frame + 5, 1, (size_t)size, f) != (size_t)size) die("read body");
    fclose(f);
}

static int open_socket(void) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(opt.host, opt.port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "grpcload: %s: %s\n", opt.host, gai_strerror(rc));
        exit(2);
    }
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) die("connect");
    freeaddrinfo(res);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void open_conn(conn *c) {
    nghttp2_session_callbacks *cbs;
    c->fd = open_socket();
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
    nghttp2_session_callbacks_set_recv_callback(cbs, recv_cb);
    nghttp2_session_callbacks_set_on_header_callback(cbs, header_cb);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, close_cb);
    if (nghttp2_session_client_new(&c->session, cbs, c) != 0) die("nghttp2 session");
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                         {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
    nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 2);
}

static int submit_call(conn *c) {
    call *k = calloc(1, sizeof *k);
    if (!k) die("out of memory");
    k->grpc_status = -1;
    k->http_status = -1;
    k->start = now_s();
    nghttp2_data_provider prd = {.source.ptr = k, .read_callback = read_body};
    if (nghttp2_submit_request(c->session, NULL, headers, nheaders, &prd, k) < 0) {
        free(k);
        return -1;
    }
    if (st.sent == 0) st.first_send = k->start;
    st.sent++;
    c->inflight++;
    return 0;
}

static int may_issue(double deadline) {
    if (interrupted) return 0;
    if (opt.requests > 0) return st.sent < opt.requests;
    return now_s() < deadline;
}

/* Keeps each live connection at its share of the in-flight calls. */
static void top_up(conn *conns, double deadline) {
    for (int i = 0; i < opt.connections; i++) {
        int share = opt.concurrency / opt.connections + (i < opt.concurrency % opt.connections);
        while (!conns[i].dead && conns[i].inflight < share && may_issue(deadline))
            if (submit_call(&conns[i]) != 0) break;
    }
}

static void kill_conn(conn *c) {
    if (c->dead) return;
    c->dead = 1;
    st.lost += c->inflight;
    st.unexpected += c->inflight;
    c->inflight = 0;
}

static void pump(conn *c, short revents) {
    if (c->dead) return;
    if ((revents & (POLLIN | POLLHUP | POLLERR)) && nghttp2_session_recv(c->session) != 0) kill_conn(c);
    else if (nghttp2_session_send(c->session) != 0 || flush_out(c) != 0) kill_conn(c);
}

static int total_inflight(const conn *conns) {
    int n = 0;
    for (int i = 0; i < opt.connections; i++) n += conns[i].dead ? 0 : conns[i].inflight;
    return n;
}

static void run(conn *conns) {
    struct pollfd fds[MAX_CONNECTIONS];
    double deadline = now_s() + opt.duration, drain_until = 0;
    for (;;) {
        int issuing = may_issue(deadline);
        if (issuing) top_up(conns, deadline);
        for (int i = 0; i < opt.connections; i++) pump(&conns[i], 0);
        if (!issuing && total_inflight(conns) == 0) return;
        if (!issuing && drain_until == 0) drain_until = now_s() + opt.drain_timeout;
        if (drain_until && now_s() > drain_until) break;
        for (int i = 0; i < opt.connections; i++) {
            fds[i].fd = conns[i].dead ? -1 : conns[i].fd;
            int writing = conns[i].outlen || nghttp2_session_want_write(conns[i].session);
            fds[i].events = POLLIN | (writing ? POLLOUT : 0);
        }
        if (poll(fds, (nfds_t)opt.connections, 10) < 0 && errno != EINTR) die("poll");
        for (int i = 0; i < opt.connections; i++) pump(&conns[i], fds[i].revents);
    }
    for (int i = 0; i < opt.connections; i++) kill_conn(&conns[i]);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static uint32_t percentile(double p) {
    if (st.nlatency == 0) return 0;
    size_t i = (size_t)(p * (double)(st.nlatency - 1) + 0.5);
    return st.latency_us[i];
}

static void report_json(double elapsed) {
    printf("{\"sent\": %ld, \"completed\": %ld, \"ok\": %ld, \"statuses\": {", st.sent, st.completed, st.ok);
    const char *sep = "";
    for (int i = 0; i < NSTATUS; i++) {
        if (!st.by_status[i]) continue;
        printf("%s\"%s\": %ld", sep, STATUS_NAMES[i], st.by_status[i]);
        sep = ", ";
    }
    printf("}, \"other_status\": %ld, \"no_status\": %ld, \"lost\": %ld, \"resets\": %ld, "
           "\"http_errors\": %ld, \"unexpected\": %ld, \"elapsed_s\": %.6f, \"rps\": %.1f, "
           "\"p50_us\": %u, \"p90_us\": %u, \"p99_us\": %u, \"max_us\": %u, "
           "\"connections\": %d, \"concurrency\": %d}\n",
           st.other_status, st.no_status, st.lost, st.resets, st.http_errors, st.unexpected,
           elapsed, elapsed > 0 ? (double)st.completed / elapsed : 0.0, percentile(0.5),
           percentile(0.9), percentile(0.99), percentile(1.0), opt.connections, opt.concurrency);
}

static void report_text(double elapsed) {
    printf("grpcload %s%s  connections %d  in flight %d\n", authority, opt.path, opt.connections, opt.concurrency);
    printf("  sent %ld  completed %ld  OK %ld  in %.2f s: %.0f req/s\n", st.sent, st.completed,
           st.ok, elapsed, elapsed > 0 ? (double)st.completed / elapsed : 0.0);
    for (int i = 1; i < NSTATUS; i++)
        if (st.by_status[i]) printf("  %-20s %ld\n", STATUS_NAMES[i], st.by_status[i]);
    if (st.other_status) printf("  %-20s %ld\n", "other status", st.other_status);
    if (st.no_status) printf("  %-20s %ld\n", "no grpc-status", st.no_status);
    if (st.lost) printf("  %-20s %ld\n", "lost (no reply)", st.lost);
    printf("  latency p50 %u us  p90 %u us  p99 %u us  max %u us\n", percentile(0.5),
           percentile(0.9), percentile(0.99), percentile(1.0));
    printf("  unexpected replies: %ld\n", st.unexpected);
}

static void usage(void) {
    fprintf(stderr,
            "usage: grpcload --host H --port P --path /pkg.Service/Method --body FILE\n"
            "                [--connections N] [--concurrency N] (--duration S | --requests N)\n"
            "                [--header 'name: value']... [--expect 0,5] [--drain S] [--json]\n");
    exit(2);
}

static void add_header(char *spec) {
    char *colon = strchr(spec + 1, ':');
    if (!colon || opt.nextra == MAX_EXTRA_HEADERS) usage();
    *colon = '\0';
    char *value = colon + 1;
    while (*value == ' ') value++;
    for (char *p = spec; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    opt.extra_names[opt.nextra] = spec;
    opt.extra_values[opt.nextra++] = value;
}

static void parse_expected(char *list) {
    opt.expected = 0;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        int code = atoi(tok);
        if (code < 0 || code >= 32) usage();
        opt.expected |= 1u << code;
    }
}

static void parse_args(int argc, char **argv) {
    static struct option longs[] = {
        {"host", 1, 0, 'H'},        {"port", 1, 0, 'p'},     {"path", 1, 0, 'm'},
        {"body", 1, 0, 'b'},        {"connections", 1, 0, 'c'}, {"concurrency", 1, 0, 'n'},
        {"duration", 1, 0, 'd'},    {"requests", 1, 0, 'r'}, {"header", 1, 0, 'h'},
        {"expect", 1, 0, 'e'},      {"drain", 1, 0, 'D'},    {"json", 0, 0, 'j'},
        {0, 0, 0, 0}};
    opt = (options){.host = "127.0.0.1", .connections = 4, .concurrency = 64, .duration = 5,
                    .drain_timeout = 5, .expected = 1};
    int ch;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
            case 'H': opt.host = optarg; break;
            case 'p': opt.port = optarg; break;
            case 'm': opt.path = optarg; break;
            case 'b': opt.body_file = optarg; break;
            case 'c': opt.connections = atoi(optarg); break;
            case 'n': opt.concurrency = atoi(optarg); break;
            case 'd': opt.duration = atof(optarg); break;
            case 'r': opt.requests = atol(optarg); break;
            case 'h': add_header(optarg); break;
            case 'e': parse_expected(optarg); break;
            case 'D': opt.drain_timeout = atof(optarg); break;
            case 'j': opt.json = 1; break;
            default: usage();
        }
    }
    if (!opt.port || !opt.path || !opt.body_file) usage();
    if (opt.connections < 1 || opt.connections > MAX_CONNECTIONS) usage();
    if (opt.concurrency < opt.connections) opt.concurrency = opt.connections;
}

static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

int main(int argc, char **argv) {
    static conn conns[MAX_CONNECTIONS];
    parse_args(argc, argv);
    load_body();
    build_headers();
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    for (int i = 0; i < opt.connections; i++) open_conn(&conns[i]);
    run(conns);
    double elapsed = st.completed ? st.last_done - st.first_send : 0.0;
    qsort(st.latency_us, st.nlatency, sizeof(uint32_t), cmp_u32);
    if (opt.json) report_json(elapsed);
    else report_text(elapsed);
    for (int i = 0; i < opt.connections; i++) {
        nghttp2_session_del(conns[i].session);
        close(conns[i].fd);
    }
    return st.unexpected ? 1 : 0;
}
